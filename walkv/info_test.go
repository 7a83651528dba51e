package walkv

import (
	"strings"
	"testing"
)

func TestInfo(t *testing.T) {
	e := newEnv(t, nil)
	e.runSteps([]step{{"SET k v", "OK"}, {"SET t v EX 100", "OK"}, {"GET k", "v"}, {"GET nope", nil}})
	tests := []struct {
		args       string
		want, lack []string
	}{
		{"INFO", []string{"# Server\r\n", "redis_version:" + redisVersion, "# Clients\r\n", "connected_clients:",
			"# Persistence\r\n", "aof_enabled:1", "appendfsync:always", "# Stats\r\n", "keyspace_hits:1",
			"keyspace_misses:1", "# Keyspace\r\n", "db0:keys=2,expires=1,avg_ttl=0"}, nil},
		{"INFO persistence", []string{"rdb_changes_since_last_save:2", "walkv_last_txn:2", "walkv_durable_txn:2"}, []string{"# Server"}},
		{"INFO server keyspace", []string{"# Server", "tcp_port:", "# Keyspace"}, []string{"# Stats"}},
		{"INFO everything", []string{"# Stats", "total_commands_processed:"}, nil},
		{"INFO nosuchsection", nil, []string{"#"}},
	}
	for _, tt := range tests {
		got, _ := e.do(tt.args).(string)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", tt.args, w, got)
			}
		}
		for _, l := range tt.lack {
			if strings.Contains(got, l) {
				t.Errorf("%s has %q:\n%s", tt.args, l, got)
			}
		}
	}
	e.runSteps([]step{
		{"CONFIG GET appendfsync appendonly save databases walkv-snapshot-log-bytes client-output-buffer-limit", []any{
			"appendfsync", "always", "appendonly", "yes", "save", "", "databases", "16", "walkv-snapshot-log-bytes", "67108864",
			"client-output-buffer-limit", "normal 1073741824 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"}},
		{"CONFIG GET APPEND* save", []any{"appendonly", "yes", "appendfilename", "appendonly.aof", "appenddirname", "appendonlydir", "appendfsync", "always", "save", ""}},
		{"FLUSHALL", "OK"},
	})
	if got := e.do("INFO keyspace").(string); strings.Contains(got, "db0") {
		t.Errorf("INFO keyspace of an empty db: %q", got)
	}
}
