package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RunStatus counts the items of one kind of one run.
type RunStatus struct {
	Run  string `json:"run"`
	Kind string `json:"kind"`
	// Done are the records of class final with status ok; Failed every
	// other record (a failure that stands, or one to be tried again).
	Done   int `json:"done"`
	Failed int `json:"failed"`
	// Held are the items a worker is working on; Queued those waiting
	// for one (retries included).
	Held   int `json:"held"`
	Queued int `json:"queued"`
	// LastMinute counts the records stored in the last minute; First and
	// Last are the times of the first and last one.
	LastMinute int        `json:"last_minute"`
	First      *time.Time `json:"first,omitempty"`
	Last       *time.Time `json:"last,omitempty"`
}

// PerSecond returns the run's records a second over the last minute.
func (r RunStatus) PerSecond() float64 { return float64(r.LastMinute) / 60 }

// Overall returns the run's records a second from its first to its last.
func (r RunStatus) Overall() float64 {
	if r.First == nil || r.Last == nil || !r.Last.After(*r.First) {
		return 0
	}
	return float64(r.Done+r.Failed) / r.Last.Sub(*r.First).Seconds()
}

// WorkerStatus is a worker with a lease.
type WorkerStatus struct {
	ID       string    `json:"id"`
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	Kinds    []string  `json:"kinds"`
	Started  time.Time `json:"started"`
	Seen     time.Time `json:"seen"`
	Lease    float64   `json:"lease_s"`
	Holding  int       `json:"holding"`
	Expired  bool      `json:"expired"` // its lease ran out; its items are released at the next look
	SeenAgoS float64   `json:"seen_ago_s"`
}

// Status is what a shared store is doing.
type Status struct {
	Runs    []RunStatus    `json:"runs"`
	Workers []WorkerStatus `json:"workers"`
}

// Status reads the runs' counts and the workers.
func (s *Store) Status(ctx context.Context) (Status, error) {
	var st Status
	if s.empty {
		return st, nil
	}
	err := s.retry(ctx, "read the status", func(ctx context.Context) error {
		st = Status{}
		byRun := map[[2]string]int{}
		get := func(run, kind string) *RunStatus {
			k := [2]string{run, kind}
			i, ok := byRun[k]
			if !ok {
				i = len(st.Runs)
				byRun[k] = i
				st.Runs = append(st.Runs, RunStatus{Run: run, Kind: kind})
			}
			return &st.Runs[i]
		}
		rows, err := s.pool.Query(ctx, `SELECT run, kind,
				count(*) FILTER (WHERE class = 'final' AND status = 'ok'),
				count(*) FILTER (WHERE NOT (class = 'final' AND status = 'ok')),
				count(*) FILTER (WHERE updated_at > now() - interval '1 minute'),
				min(updated_at), max(updated_at)
			FROM emer_records GROUP BY run, kind ORDER BY run, kind`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var run, kind string
			var r RunStatus
			var first, last time.Time
			if err := rows.Scan(&run, &kind, &r.Done, &r.Failed, &r.LastMinute, &first, &last); err != nil {
				rows.Close()
				return err
			}
			p := get(run, kind)
			p.Done, p.Failed, p.LastMinute, p.First, p.Last = r.Done, r.Failed, r.LastMinute, &first, &last
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = s.pool.Query(ctx, `SELECT args->>'run', queue,
				count(*) FILTER (WHERE state = 'running'), count(*) FILTER (WHERE state <> 'running')
			FROM river_job WHERE `+liveSQL+` GROUP BY 1, 2 ORDER BY 1, 2`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var run, kind string
			var held, queued int
			if err := rows.Scan(&run, &kind, &held, &queued); err != nil {
				rows.Close()
				return err
			}
			p := get(run, kind)
			p.Held, p.Queued = held, queued
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = s.pool.Query(ctx, `SELECT w.id, w.host, w.pid, w.kinds, w.started_at, w.seen_at, w.lease_ms,
				extract(epoch FROM now() - w.seen_at)::float8,
				(SELECT count(*) FROM river_job j WHERE j.state = 'running'
					AND j.attempted_by[array_length(j.attempted_by, 1)] = w.id)
			FROM emer_workers w ORDER BY w.id`)
		if err != nil {
			return err
		}
		st.Workers, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (WorkerStatus, error) {
			var w WorkerStatus
			var leaseMS int64
			err := row.Scan(&w.ID, &w.Host, &w.PID, &w.Kinds, &w.Started, &w.Seen, &leaseMS, &w.SeenAgoS, &w.Holding)
			w.Lease = float64(leaseMS) / 1000
			w.Expired = w.SeenAgoS > w.Lease
			return w, err
		})
		return err
	})
	if err != nil {
		return Status{}, fmt.Errorf("%s: %w", s.name, err)
	}
	return st, nil
}
