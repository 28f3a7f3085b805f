package storage

import "gorm.io/gorm"

// indexDueInIDOrder makes ix_qrs_due (status, id) instead of (status,
// next_check_at, id), and on PostgreSQL leaves half of each page of qrs
// free (fillfactor 50).
//
// A reconciler cycle writes every pending QR twice: its claim moves
// NextCheckAt, then its check record moves it again. With NextCheckAt in
// an index, each write on PostgreSQL made a new row version with a new
// entry in each of the table's seven indexes: at 100,000 pending QRs about
// 7 s of a 5 s interval went to those writes, and the table and its
// indexes grew by 200,000 dead entries a cycle. With no indexed column
// changed and room on the page, a write is a HOT update, which touches no
// index and whose dead versions the page itself reclaims: the same
// cycle's writes then take under 1 s. Claims go in ID order from a cursor
// (dueQuery), which needs no NextCheckAt in the index. Pages written before
// keep their fill until their rows are next written elsewhere.
func indexDueInIDOrder(tx *gorm.DB) error {
	stmts := []string{
		"DROP INDEX ix_qrs_due",
		"CREATE INDEX ix_qrs_due ON qrs (status, id)",
	}
	if tx.Dialector.Name() == "postgres" { // SQLite has no fill factor
		stmts = append(stmts, "ALTER TABLE qrs SET (fillfactor = 50)")
	}
	return execAll(tx, stmts...)
}
