package walkv

import (
	"strconv"
	"strings"
	"time"
)

// The save parameter: "<seconds> <changes>..." save points, as Redis's.
// Besides its snapshots by log size (walkv-snapshot-log-bytes), walkv
// takes a background snapshot when, for some save point, at least
// <changes> writes were made and <seconds> have passed since the last
// snapshot (or the start). walkv's default is no save points: every write
// is in the log already, and snapshots only bound its replay.

// saveCron starts a background snapshot if a save point is due at now
// (called once a second by housekeeping); it reports whether it did.
func (srv *Server) saveCron(now time.Time) bool {
	points := strings.Fields(srv.configValue("save"))
	if len(points) == 0 || srv.db.clustered() {
		return false
	}
	db := srv.db
	db.mu.RLock()
	dirty := db.dirty
	db.mu.RUnlock()
	last := db.snap.lastUnix.Load()
	if last == 0 {
		last = db.start.Unix()
	}
	for i := 0; i+1 < len(points); i += 2 {
		secs, _ := strconv.ParseInt(points[i], 10, 64)
		changes, _ := strconv.ParseInt(points[i+1], 10, 64)
		if dirty >= changes && now.Unix()-last >= secs {
			return db.BackgroundSnapshot() == nil
		}
	}
	return false
}
