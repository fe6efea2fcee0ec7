package ec2sim

import (
	"encoding/json"
	"net/http"
	"time"
)

// serveControl answers the simulator's own endpoints:
//
//	GET    /_sim/stats                call counters as JSON (Stats)
//	DELETE /_sim/stats                reset the counters
//	GET    /_sim/images               every AFI as JSON ([]Image, state now)
//	POST   /_sim/clock/advance?by=1h  move an OffsetClock or ManualClock forward
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_sim/stats" && r.Method == http.MethodGet:
		writeJSON(w, s.Stats())
	case r.URL.Path == "/_sim/stats" && r.Method == http.MethodDelete:
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_sim/images" && r.Method == http.MethodGet:
		imgs := s.Images("", "")
		if imgs == nil {
			imgs = []Image{}
		}
		writeJSON(w, imgs)
	case r.URL.Path == "/_sim/clock/advance" && r.Method == http.MethodPost:
		adv, ok := s.clock.(advancer)
		if !ok {
			http.Error(w, "this simulator's clock cannot be advanced", http.StatusConflict)
			return
		}
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d < 0 {
			http.Error(w, "want ?by=DURATION (e.g. 90s), not negative", http.StatusBadRequest)
			return
		}
		adv.Advance(d)
		writeJSON(w, map[string]string{"now": fmtTime(s.clock.Now())})
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
