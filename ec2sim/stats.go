package ec2sim

import (
	"slices"
	"sort"
	"time"
)

type callKey struct{ action, region, outcome string }

type retryKey struct{ action, region string }

// Stats is a snapshot of the simulator's call counters. It is also the JSON
// document served at GET /_sim/stats.
type Stats struct {
	// Calls has one entry per action, Region and outcome, sorted.
	Calls []CallCount `json:"calls"`
	// Retries counts requests whose amz-sdk-request header said attempt=N
	// with N > 1, per action and Region, sorted.
	Retries []RetryCount `json:"retries"`
	// Total is the number of calls counted.
	Total int `json:"total"`
	// AFIs counts the AFIs each account holds in each Region (any state but
	// deleted), sorted; Limit is Options.AFILimit (0: none).
	AFIs []AFICount `json:"afis"`
}

// AFICount is the number of AFIs one account holds in one Region, and the
// simulator's limit on it (0: none).
type AFICount struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Held    int    `json:"held"`
	Limit   int    `json:"limit"`
}

// CallCount is the number of calls of one action in one Region that ended
// with one outcome: "ok" or the EC2 error code (e.g. "RequestLimitExceeded",
// "DryRunOperation").
type CallCount struct {
	Action  string `json:"action"`
	Region  string `json:"region"`
	Outcome string `json:"outcome"`
	Count   int    `json:"count"`
}

// RetryCount is the number of retried requests (attempt > 1) of one action in
// one Region.
type RetryCount struct {
	Action string `json:"action"`
	Region string `json:"region"`
	Count  int    `json:"count"`
}

// Count sums the calls matching action, region and outcome; "" matches any.
func (st Stats) Count(action, region, outcome string) int {
	n := 0
	for _, c := range st.Calls {
		if (action == "" || c.Action == action) && (region == "" || c.Region == region) && (outcome == "" || c.Outcome == outcome) {
			n += c.Count
		}
	}
	return n
}

// RetriesOf sums the retried requests matching action and region; "" matches
// any.
func (st Stats) RetriesOf(action, region string) int {
	n := 0
	for _, c := range st.Retries {
		if (action == "" || c.Action == action) && (region == "" || c.Region == region) {
			n += c.Count
		}
	}
	return n
}

// Stats returns a snapshot of the call counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Calls: []CallCount{}, Retries: []RetryCount{}, AFIs: []AFICount{}}
	held := map[[2]string]int{}
	for _, a := range s.images {
		held[[2]string{a.Account, a.Region}]++
	}
	for k, n := range held {
		st.AFIs = append(st.AFIs, AFICount{k[0], k[1], n, s.afiLimit})
	}
	sort.Slice(st.AFIs, func(i, j int) bool {
		a, b := st.AFIs[i], st.AFIs[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		return a.Region < b.Region
	})
	for k, n := range s.calls {
		st.Calls = append(st.Calls, CallCount{k.action, k.region, k.outcome, n})
		st.Total += n
	}
	for k, n := range s.retries {
		st.Retries = append(st.Retries, RetryCount{k.action, k.region, n})
	}
	sort.Slice(st.Calls, func(i, j int) bool {
		a, b := st.Calls[i], st.Calls[j]
		if a.Action != b.Action {
			return a.Action < b.Action
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.Outcome < b.Outcome
	})
	sort.Slice(st.Retries, func(i, j int) bool {
		a, b := st.Retries[i], st.Retries[j]
		if a.Action != b.Action {
			return a.Action < b.Action
		}
		return a.Region < b.Region
	})
	return st
}

// ResetStats zeroes the call counters and empties the call log.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	s.calls = map[callKey]int{}
	s.retries = map[retryKey]int{}
	s.log = nil
	s.mu.Unlock()
}

// Call is one entry of the call log (Options.CallLog): when the simulator
// handled a call, on its clock, and how it answered.
type Call struct {
	Time    time.Time
	Action  string
	Region  string
	Account string // "" for a call without credentials
	// Outcome is "ok" or the error code, as in CallCount.
	Outcome string
	// Attempt is the SDK's attempt number from the amz-sdk-request
	// header (1 for a first try, 0 when the client sent none).
	Attempt int
}

// CallLog returns a copy of the call log, in the order the calls were
// handled (their Times never decrease unless the clock was moved back). It
// is empty unless Options.CallLog is set; ResetStats clears it.
func (s *Sim) CallLog() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}
