package walkv

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// redisVersion is the Redis version walkv reports; clients use it to pick
// features. walkv implements a subset of Redis 7.0.
const redisVersion = "7.0.0"

func init() {
	register(
		&command{name: "info", arity: -1, flags: 0, lock: lockRead, run: cmdInfo},
		&command{name: "save", arity: 1, flags: flagAdmin | flagNoMulti, run: cmdSave},
		&command{name: "bgsave", arity: -1, flags: flagAdmin | flagNoMulti, run: cmdBgsave},
		&command{name: "bgrewriteaof", arity: 1, flags: flagAdmin | flagNoMulti, run: cmdBgsave},
		&command{name: "lastsave", arity: 1, flags: flagFast, run: cmdLastsave},
		&command{name: "debug", arity: -2, flags: flagAdmin | flagProtect, run: cmdDebug},
		&command{name: "command", arity: -1, run: cmdCommand},
		&command{name: "shutdown", arity: -1, flags: flagAdmin | flagNoMulti, run: cmdShutdown},
		&command{name: "time", arity: 1, flags: flagFast, run: cmdTime},
	)
}

func cmdInfo(x *exec) {
	var sections []string
	for _, a := range x.args[1:] {
		sections = append(sections, strings.ToLower(string(a)))
	}
	x.typed().WriteVerbatim(x.srv.info(sections))
}

func cmdSave(x *exec) {
	if err := x.db.Snapshot(); err != nil {
		x.c.WriteError("ERR " + err.Error())
		return
	}
	x.c.WriteString("OK")
}

// cmdBgsave serves BGSAVE [SCHEDULE] and BGREWRITEAOF: both take a
// snapshot in the background and then truncate the log.
func cmdBgsave(x *exec) {
	aof := eqFold(x.args[0], "bgrewriteaof")
	if len(x.args) > 2 || (len(x.args) == 2 && !eqFold(x.args[1], "schedule")) {
		x.c.WriteError(errSyntax)
		return
	}
	err := x.db.BackgroundSnapshot()
	switch {
	case errors.Is(err, ErrClusterMode):
		x.c.WriteError("ERR " + err.Error())
	case errors.Is(err, ErrSnapshotRunning) && len(x.args) == 2:
		x.db.snap.request() // SCHEDULE: run when the current one ends
		x.c.WriteString("Background saving scheduled")
	case errors.Is(err, ErrSnapshotRunning):
		x.c.WriteError("ERR Background save already in progress")
	case aof:
		x.c.WriteString("Background append only file rewriting started")
	default:
		x.c.WriteString("Background saving started")
	}
}

func cmdLastsave(x *exec) {
	t := x.db.snap.lastUnix.Load()
	if t == 0 {
		t = x.db.start.Unix()
	}
	x.c.WriteInt64(t)
}

func cmdTime(x *exec) {
	now := time.Now()
	x.writeStrings([]string{strconv.FormatInt(now.Unix(), 10), strconv.Itoa(now.Nanosecond() / 1000)})
}

// cmdShutdown [NOSAVE|SAVE|NOW|FORCE|ABORT]: with SAVE takes a snapshot
// first; then sends the replies to earlier commands once durable, closes
// the connection without a reply of its own (as Redis does on success)
// and asks the server owner to stop (Server.Done).
func cmdShutdown(x *exec) {
	save := false
	for _, a := range x.args[1:] {
		switch {
		case eqFold(a, "save"):
			save = true
		case eqFold(a, "nosave"), eqFold(a, "now"), eqFold(a, "force"):
		case eqFold(a, "abort"):
			x.c.WriteError("ERR No shutdown in progress.")
			return
		default:
			x.c.WriteError(errSyntax)
			return
		}
	}
	if save {
		if err := x.db.Snapshot(); err != nil {
			x.c.WriteError("ERR Errors trying to SHUTDOWN. Check logs.")
			return
		}
	}
	x.srv.waitDurable(x.s)
	x.srv.requestShutdown()
	x.c.Close()
}
