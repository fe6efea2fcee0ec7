package ec2sim

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Service Quotas (awsJson1.1, X-Amz-Target: ServiceQuotasV20190624.<Op>):
// the simulator answers GetServiceQuota for the AFI quota, so that a client
// may read the limit it enforces (Options.AFILimit).
const (
	quotasTargetPrefix = "ServiceQuotasV20190624."
	// QuotaCodeAFI is the Service Quotas code of "Amazon FPGA images
	// (AFIs)" in service ec2.
	QuotaCodeAFI = "L-8FBBDF0C"
)

// serveQuotas answers one Service Quotas request: GetServiceQuota of
// ec2/L-8FBBDF0C with Options.AFILimit; NoSuchResourceException for it when
// the simulator has no limit, and for any other quota; InvalidAction (the
// simulator's choice) for any other operation.
func (s *Sim) serveQuotas(w http.ResponseWriter, r *http.Request, target string) {
	op := strings.TrimPrefix(target, quotasTargetPrefix)
	akid, region, _ := credentialScope(r)
	var in struct{ ServiceCode, QuotaCode string }
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	decErr := dec.Decode(&in)

	s.mu.Lock()
	requestID := s.newRequestID()
	limit := s.afiLimit
	var code, msg string
	status := http.StatusBadRequest
	switch {
	case akid == "":
		code, msg, status = "MissingAuthenticationTokenException", "Missing Authentication Token", http.StatusForbidden
	case op != "GetServiceQuota":
		code, msg = "InvalidAction", "The action "+op+" is not valid for this web service."
	case decErr != nil:
		code, msg = "SerializationException", "The request body could not be read."
	case in.ServiceCode != "ec2" || in.QuotaCode != QuotaCodeAFI || limit <= 0:
		code, msg = "NoSuchResourceException", "The request failed because the specified quota does not exist."
	}
	outcome := "ok"
	if code != "" {
		outcome = code
	}
	s.calls[callKey{op, region, outcome}]++
	if s.logCalls {
		s.log = append(s.log, Call{Time: s.clock.Now(), Action: op, Region: region, Account: s.accountOf(akid), Outcome: outcome})
	}
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", requestID)
	if code != "" {
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"Quota": map[string]any{
		"ServiceCode": "ec2", "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
		"QuotaCode": QuotaCodeAFI, "QuotaName": "Amazon FPGA images (AFIs)",
		"QuotaArn": "arn:aws:servicequotas:" + region + ":" + s.accountOf(akid) + ":ec2/" + QuotaCodeAFI,
		"Value":    float64(limit), "Unit": "None", "Adjustable": true, "GlobalQuota": false,
	}})
}
