package killchild

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestMain lets the test binary act as the child: it writes the ready
// line, then acknowledgements until killed, or misbehaves on request.
func TestMain(m *testing.M) {
	switch os.Getenv("KILLCHILD_TEST_MODE") {
	case "":
		os.Exit(m.Run())
	case "acks":
		fmt.Println(ReadyLine)
		for i := 0; ; i++ {
			fmt.Printf("ack %d\n", i)
			time.Sleep(time.Millisecond)
		}
	case "exit":
		fmt.Println(ReadyLine)
		os.Exit(0)
	case "silent":
		time.Sleep(time.Hour)
	}
}

func child(mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// A race-enabled binary sleeps 1 s at exit unless told not to.
	cmd.Env = append(os.Environ(), "KILLCHILD_TEST_MODE="+mode, "GORACE=atexit_sleep_ms=0")
	return cmd
}

func TestRunKillsAndCollectsEveryLine(t *testing.T) {
	res, err := Run(child("acks"), 50*time.Millisecond, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lines) == 0 {
		t.Fatal("no acknowledgement lines collected in 50 ms")
	}
	for i, l := range res.Lines {
		if l != fmt.Sprintf("ack %d", i) {
			t.Fatalf("line %d = %q: lines lost or reordered", i, l)
		}
	}
}

func TestRunReportsMisbehavingChildren(t *testing.T) {
	if _, err := Run(child("exit"), time.Second, 10*time.Second); !errors.Is(err, ErrExitedEarly) {
		t.Errorf("child that exits by itself: %v, want ErrExitedEarly", err)
	}
	if _, err := Run(child("silent"), time.Millisecond, 200*time.Millisecond); !errors.Is(err, ErrNotReady) {
		t.Errorf("child that never becomes ready: %v, want ErrNotReady", err)
	}
}
