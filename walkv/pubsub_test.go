package walkv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A pubsubStep sends cmd on client c (0 is the publisher) and reads n
// replies from it (n 0 means 1); with no cmd it only reads n pushed
// messages.
type pubsubStep struct {
	c   int
	cmd string
	n   int
}

type pubsubScenario struct {
	name    string
	clients int
	steps   []pubsubStep
}

var pubsubScenarios = []pubsubScenario{
	{"channels and patterns", 3, []pubsubStep{
		{1, "SUBSCRIBE news sport", 2},
		{2, "PSUBSCRIBE n* s?ort", 2},
		{0, "PUBLISH news hi", 0},
		{0, "PUBLISH sport go", 0},
		{0, "PUBLISH other x", 0},
		{1, "", 2},
		{2, "", 2},
		{0, "PUBSUB NUMSUB news sport other", 0},
		{0, "PUBSUB NUMPAT", 0},
		{0, "PUBSUB CHANNELS n*", 0},
		{0, "PUBSUB CHANNELS nomatch*", 0},
	}},
	{"subscribed mode", 2, []pubsubStep{
		{1, "SUBSCRIBE a", 0},
		{1, "GET k", 0},
		{1, "PUBSUB NUMSUB a", 0},
		{1, "PUBSUB NOSUCH", 0},
		{1, "PING", 0},
		{1, "PING hello", 0},
		{1, "PING a b", 0},
		{1, "NOSUCHCMD x", 0},
		{1, "SUBSCRIBE", 0},
		{1, "PSUBSCRIBE p*", 0},
		{1, "UNSUBSCRIBE", 0},
		{1, "PUNSUBSCRIBE", 0},
		{1, "UNSUBSCRIBE", 0},
		{1, "PUNSUBSCRIBE nosuch", 0},
		{1, "PING", 0},
		{1, "GET k", 0},
	}},
	{"a channel and a pattern on one client", 2, []pubsubStep{
		{1, "SUBSCRIBE ch", 0},
		{1, "PSUBSCRIBE c*", 0},
		{1, "SUBSCRIBE ch", 0},
		{0, "PUBLISH ch m1", 0},
		{0, "PUBLISH cx m2", 0},
		{1, "", 3},
		{1, "PUNSUBSCRIBE c*", 0},
		{0, "PUBLISH ch m3", 0},
		{1, "", 1},
		{0, "PUBSUB NUMPAT", 0},
	}},
	{"reset, MULTI and binary", 3, []pubsubStep{
		{1, "SUBSCRIBE a", 0},
		{1, "RESET", 0},
		{0, "PUBLISH a x", 0},
		{0, "PUBSUB NUMSUB a", 0},
		{1, "MULTI", 0},
		{1, "SUBSCRIBE z", 0},
		{1, "EXEC", 0},
		{2, "PSUBSCRIBE h[ae]llo h\\*", 2},
		{0, "PUBLISH hallo 1", 0},
		{0, "PUBLISH h* 2", 0},
		{0, "PUBLISH hillo 3", 0},
		{0, "PUBLISH z ", 0},
		{2, "", 2},
		{1, "", 1},
		{1, "EXEC", 0},
	}},
}

// TestRedisDiffPubsub runs pubsubScenarios against walkv and redis-server
// and compares the full transcripts (every reply and message of every
// client, and nothing more arriving at the end).
func TestRedisDiffPubsub(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	waddr := e.srv.Addr().String()
	for _, sc := range pubsubScenarios {
		t.Run(sc.name, func(t *testing.T) {
			want := runPubsubScenario(t, raddr, sc)
			got := runPubsubScenario(t, waddr, sc)
			t.Logf("transcript:\n%s", want)
			if got != want {
				t.Fatalf("transcripts differ:\nwalkv:\n%s\nredis:\n%s", got, want)
			}
		})
	}
}

func runPubsubScenario(t *testing.T, addr string, sc pubsubScenario) string {
	cs := make([]*respClient, sc.clients)
	for i := range cs {
		cs[i] = dialResp(t, addr)
	}
	var out []string
	read := func(i int, what string, wait time.Duration) bool {
		c := cs[i]
		c.nc.SetReadDeadline(time.Now().Add(wait))
		v, err := c.read()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			out = append(out, fmt.Sprintf("%d %s -> (nothing)", i, what))
			return false
		}
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		out = append(out, fmt.Sprintf("%d %s -> %s", i, what, showReply(v)))
		return true
	}
	for _, st := range sc.steps {
		n := max(st.n, 1)
		what := "(message)"
		if st.cmd != "" {
			args := strings.Split(st.cmd, " ")
			if err := cs[st.c].send(args...); err != nil {
				t.Fatal(err)
			}
			what = st.cmd
		}
		for range n {
			if !read(st.c, what, 5*time.Second) {
				break
			}
		}
	}
	for i := range cs {
		read(i, "(at end)", 200*time.Millisecond)
	}
	return strings.Join(out, "\n")
}

// TestPubsubGoRedis: go-redis subscribers receive what another client
// publishes, on channels and patterns (glob.go's matching), and PUBSUB
// counts them; a closed subscriber is forgotten.
func TestPubsubGoRedis(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	pub := e.client()
	sub := e.client().Subscribe(ctx, "orders", "users")
	defer sub.Close()
	psub := e.client().PSubscribe(ctx, "ord?rs", "user[sz]", "*:done")
	defer psub.Close()
	for _, s := range []*redis.PubSub{sub, psub} {
		for range 2 + map[bool]int{true: 1}[s == psub] {
			if _, err := s.ReceiveTimeout(ctx, 5*time.Second); err != nil { // the subscription confirmations
				t.Fatal(err)
			}
		}
	}
	if n, err := pub.Publish(ctx, "orders", "o1").Result(); err != nil || n != 2 {
		t.Fatalf("PUBLISH orders = %d, %v; want 2 receivers", n, err)
	}
	if n, _ := pub.Publish(ctx, "job:done", "j1").Result(); n != 1 {
		t.Fatalf("PUBLISH job:done = %d, want 1", n)
	}
	if n, _ := pub.Publish(ctx, "userx", "nobody").Result(); n != 0 {
		t.Fatalf("PUBLISH userx = %d, want 0", n)
	}
	m, err := sub.ReceiveMessage(ctx)
	if err != nil || m.Channel != "orders" || m.Payload != "o1" || m.Pattern != "" {
		t.Fatalf("subscriber got %+v, %v", m, err)
	}
	for _, want := range []redis.Message{{Channel: "orders", Pattern: "ord?rs", Payload: "o1"}, {Channel: "job:done", Pattern: "*:done", Payload: "j1"}} {
		m, err := psub.ReceiveMessage(ctx)
		if err != nil || m.Channel != want.Channel || m.Pattern != want.Pattern || m.Payload != want.Payload {
			t.Fatalf("pattern subscriber got %+v, %v; want %+v", m, err, want)
		}
	}
	numsub, err := pub.PubSubNumSub(ctx, "orders", "users", "none").Result()
	if err != nil || numsub["orders"] != 1 || numsub["users"] != 1 || numsub["none"] != 0 {
		t.Fatalf("NUMSUB = %v, %v", numsub, err)
	}
	if n, _ := pub.PubSubNumPat(ctx).Result(); n != 3 {
		t.Fatalf("NUMPAT = %d, want 3", n)
	}
	if chs, _ := pub.PubSubChannels(ctx, "*").Result(); fmt.Sprint(chs) != "[orders users]" {
		t.Fatalf("CHANNELS = %v", chs)
	}
	if got := infoValue(t, pub, "pubsub_channels") + " " + infoValue(t, pub, "pubsub_patterns"); got != "2 3" {
		t.Fatalf("INFO pubsub_channels, pubsub_patterns = %s, want 2 3", got)
	}
	// A closed subscriber's channels are dropped once the server sees it go.
	sub.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		numsub, _ := pub.PubSubNumSub(ctx, "orders").Result()
		if numsub["orders"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed subscriber still counted by NUMSUB")
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}

// TestPubsubAcrossLoops: with several event loops, many subscribers
// (spread over them) each receive every message of every publisher in
// each publisher's order, while publishers run concurrently.
func TestPubsubAcrossLoops(t *testing.T) {
	srv, _ := serveWith(t, "127.0.0.1:0", &ServerOptions{EventLoops: 4})
	ctx := context.Background()
	const subs, pubs, msgs = 6, 3, 200
	var ps []*redis.PubSub
	for range subs {
		s := clientOf(t, srv, redis.Options{}).Subscribe(ctx, "ch")
		if _, err := s.ReceiveTimeout(ctx, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, s)
		defer s.Close()
	}
	errc := make(chan error, pubs)
	for p := range pubs {
		c := clientOf(t, srv, redis.Options{})
		go func() {
			for i := range msgs {
				if err := c.Publish(ctx, "ch", fmt.Sprintf("%d:%d", p, i)).Err(); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range pubs {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	for si, s := range ps {
		next := make([]int, pubs)
		for range pubs * msgs {
			m, err := s.ReceiveTimeout(ctx, 5*time.Second)
			if err != nil {
				t.Fatalf("subscriber %d: %v", si, err)
			}
			var p, i int
			fmt.Sscanf(m.(*redis.Message).Payload, "%d:%d", &p, &i)
			if i != next[p] {
				t.Fatalf("subscriber %d: message %d of publisher %d, want %d", si, i, p, next[p])
			}
			next[p]++
		}
	}
}

// TestPubsubSlowSubscriber: a subscriber that does not read is closed at
// the pubsub class's output limit; the publisher goes on.
func TestPubsubSlowSubscriber(t *testing.T) {
	srv, _ := serveWith(t, "127.0.0.1:0", nil)
	pub := clientOf(t, srv, redis.Options{})
	if got := doWith(t, pub, "CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0"); got != "OK" {
		t.Fatalf("CONFIG SET client-output-buffer-limit: %v", got)
	}
	nc, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(64 << 10) // the kernel holds less of what the server sends
	}
	if _, err := nc.Write([]byte("SUBSCRIBE slow\r\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for doWith(t, pub, "PUBSUB", "NUMSUB", "slow").([]any)[1] != int64(1) {
		if time.Now().After(deadline) {
			t.Fatal("not subscribed")
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
	payload := strings.Repeat("x", 64<<10)
	closed := false
	for i := 0; i < 2000 && !closed; i++ { // up to 128 MiB: far past 1 MiB plus the socket buffers
		n, err := pub.Publish(context.Background(), "slow", payload).Result()
		if err != nil {
			t.Fatal(err)
		}
		closed = n == 0 // the server dropped the subscriber
	}
	if !closed {
		t.Fatal("a subscriber that does not read was never closed")
	}
	if got := infoValue(t, pub, "client_output_buffer_limit_disconnections"); got == "0" {
		t.Errorf("client_output_buffer_limit_disconnections = %s", got)
	}
	steps(t, pub, []step{{"PING", "PONG"}, {"PUBSUB NUMSUB slow", []any{"slow", 0}}})
}

// TestPubsubClusterMode: in cluster mode (connections run their commands
// on goroutines) subscribers on the node receive what is published on
// it, messages arriving while a subscriber's commands run included.
func TestPubsubClusterMode(t *testing.T) {
	e, _ := newClusterEnv(t, ReadLinearizable)
	ctx := context.Background()
	sub := e.client().Subscribe(ctx, "c")
	defer sub.Close()
	if _, err := sub.ReceiveTimeout(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	pub := e.client()
	const n = 300
	done := make(chan error, 1)
	go func() { // the subscriber's own commands keep it busy meanwhile
		for range n {
			if err := sub.Ping(ctx); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range n {
		if got, err := pub.Publish(ctx, "c", fmt.Sprint(i)).Result(); err != nil || got != 1 {
			t.Fatalf("PUBLISH = %d, %v", got, err)
		}
	}
	next := 0
	for next < n {
		m, err := sub.ReceiveTimeout(ctx, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if msg, ok := m.(*redis.Message); ok {
			if msg.Payload != fmt.Sprint(next) {
				t.Fatalf("message %q, want %d", msg.Payload, next)
			}
			next++
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPubsubChurn: subscribers join, leave and disconnect on several
// event loops while others publish; afterwards nothing is left
// subscribed (run it under -race: the hub and the deliveries are shared).
func TestPubsubChurn(t *testing.T) {
	srv, _ := serveWith(t, "127.0.0.1:0", &ServerOptions{EventLoops: 3})
	ctx := context.Background()
	const workers, rounds = 4, 30
	errc := make(chan error, 2*workers)
	for w := range workers {
		go func() { // a subscriber that churns
			for r := range rounds {
				s := clientOf(t, srv, redis.Options{}).PSubscribe(ctx, "ch*")
				if err := s.Subscribe(ctx, "ch", fmt.Sprint("own", w)); err != nil {
					errc <- err
					return
				}
				if r%2 == 0 {
					if err := s.Unsubscribe(ctx, "ch"); err != nil {
						errc <- err
						return
					}
				}
				s.Close()
			}
			errc <- nil
		}()
		go func() { // a publisher
			c := clientOf(t, srv, redis.Options{})
			for range rounds * 5 {
				if err := c.Publish(ctx, "ch", "m").Err(); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range 2 * workers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	c := clientOf(t, srv, redis.Options{})
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, _ := c.PubSubNumPat(ctx).Result()
		chs, _ := c.PubSubChannels(ctx, "*").Result()
		if n == 0 && len(chs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after every subscriber closed: NUMPAT %d, CHANNELS %v", n, chs)
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}
