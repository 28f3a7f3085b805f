package payments

import (
	"context"
	"time"
)

// ReconcilerConfig tunes the Reconciler.
type ReconcilerConfig struct {
	Interval   time.Duration // POLL_INTERVAL
	MaxRPS     int           // request budget per second towards Bakong (BAKONG_MAX_RPS)
	Grace      time.Duration // final check after expiry
	MaxBackoff time.Duration // cap of the error backoff
}

// Reconciler polls Bakong for every pending QR and applies what it finds.
type Reconciler struct {
	svc *Service
	cfg ReconcilerConfig
}

// NewReconciler returns a Reconciler over svc.
func NewReconciler(svc *Service, cfg ReconcilerConfig) *Reconciler {
	return &Reconciler{svc: svc, cfg: cfg}
}

// Tick runs one reconciliation cycle over the QRs due now.
func (r *Reconciler) Tick(ctx context.Context) error { return errTODO }

// Run ticks every Interval until ctx is done.
func (r *Reconciler) Run(ctx context.Context) error { return errTODO }
