package pgstore

import "context"

// ForgetLease stops the heartbeat of the worker id, as a kill would.
func ForgetLease(_ context.Context, _ *Store, id string) error {
	pausedLeases.Store(id, true)
	return nil
}
