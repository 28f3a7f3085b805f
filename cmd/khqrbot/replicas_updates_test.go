package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
)

// The replica test's updates: several users talk to the bot through the
// kills, each update a command whose answer names it, so that the test
// tells which update every answer is for. Every update must be answered
// (none lost with a replica killed holding it: the inbox), and once; an
// update answered twice is excused only when its handling was in flight
// at a kill (a redo is at least once), which the answers themselves show:
// a chat's updates run one at a time on a replica, and each is marked done
// right after its answer, so an update whose answer went out and which was
// not marked done when its replica was killed has as its answer that
// replica's last call to that chat.

const (
	replicaTalkers = 5                      // ids 900, 901, ...: admins, whom a bad /pay answers
	talkEvery      = 100 * time.Millisecond // one update from one of them each
	talkBurst      = 4                      // updates from each at once, as the poller is killed
)

// talker is the id of the i-th talker, whose chat with the bot is private.
func talker(i int) int64 { return int64(900 + i) }

// talkerIDs lists the talkers' ids for ADMIN_IDS.
func talkerIDs() string {
	ids := make([]string, replicaTalkers)
	for i := range ids {
		ids[i] = strconv.FormatInt(talker(i), 10)
	}
	return strings.Join(ids, ",")
}

// chatter is the talkers' stream of updates: `/pay t<talker>n<seq>`, an
// amount the bot cannot read, which it answers naming it and nothing else
// (no invoice, no QR).
type chatter struct {
	tg   *telegramtest.Server
	mu   sync.Mutex
	sent map[int64][]string   // talker's chat -> what they sent, in order
	at   map[string]time.Time // when each was sent
	seq  int
	stop chan struct{}
	done chan struct{}
}

// startChatter starts the stream: one update every talkEvery, from each
// talker in turn, until halt.
func startChatter(tg *telegramtest.Server) *chatter {
	c := &chatter{tg: tg, sent: map[int64][]string{}, at: map[string]time.Time{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		tick := time.NewTicker(talkEvery)
		defer tick.Stop()
		for k := 0; ; k++ {
			select {
			case <-c.stop:
				return
			case <-tick.C:
				c.say(k % replicaTalkers)
			}
		}
	}()
	return c
}

// say sends one update from talker k.
func (c *chatter) say(k int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	word := fmt.Sprintf("t%dn%d", k, c.seq)
	c.sent[talker(k)] = append(c.sent[talker(k)], word)
	c.at[word] = time.Now()
	c.tg.SendText(talker(k), talker(k), "/pay "+word)
}

// burst sends talkBurst updates from every talker at once.
func (c *chatter) burst() {
	for range talkBurst {
		for k := range replicaTalkers {
			c.say(k)
		}
	}
}

// flowsOn stops the stream once an update sent from now on is answered:
// updates flow through the kills and after them.
func (c *chatter) flowsOn(t *testing.T) {
	t.Helper()
	from := c.count()
	ok := c.tg.WaitFor(time.Minute, func() bool {
		for w := range c.answers(c.tg.Calls()) {
			if n, _ := strconv.Atoi(w[strings.Index(w, "n")+1:]); n > from {
				return true
			}
		}
		return false
	})
	close(c.stop)
	<-c.done
	if !ok {
		t.Errorf("no update sent after the kills was answered")
	}
}

// answerRE finds the update an answer names.
var answerRE = regexp.MustCompile(`“(t\d+n\d+)”`)

// answers are the bot's answers to each word sent, as indexes in calls,
// in order.
func (c *chatter) answers(calls []telegramtest.Call) map[string][]int {
	out := map[string][]int{}
	for i, call := range calls {
		if call.Method != "sendMessage" || call.ErrorCode != 0 {
			continue
		}
		if m := answerRE.FindStringSubmatch(call.Params["text"]); m != nil {
			out[m[1]] = append(out[m[1]], i)
		}
	}
	return out
}

// count is how many updates were sent.
func (c *chatter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq
}

// check waits for an answer to every update sent (a survivor takes over
// what a killed replica held once its claims end), then checks each was
// answered once, bar those in flight at a kill, and returns the figures.
func (c *chatter) check(t *testing.T, killed map[string]bool, reps []*replica) string {
	t.Helper()
	c.tg.WaitFor(time.Minute, func() bool { return len(c.answers(c.tg.Calls())) == c.count() })
	calls := c.tg.Calls()
	answers := c.answers(calls)
	lastIn := map[string]map[string]int{} // replica -> chat -> index of its last call there
	for i, call := range calls {
		if lastIn[call.Client] == nil {
			lastIn[call.Client] = map[string]int{}
		}
		lastIn[call.Client][call.Params["chat_id"]] = i
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	answered, lost, twice := 0, 0, 0
	var longest time.Duration // from an update to its first answer
	for chat, words := range c.sent {
		for _, w := range words {
			at := answers[w]
			if len(at) == 0 {
				lost++
				t.Errorf("update %q of talker %d was never answered", w, chat)
				continue
			}
			answered++
			longest = max(longest, calls[at[0]].At.Sub(c.at[w]))
			if len(at) > 1 {
				twice++
			}
			for k := 1; k < len(at); k++ {
				prev := calls[at[k-1]]
				if !killed[prev.Client] || lastIn[prev.Client][prev.Params["chat_id"]] != at[k-1] {
					t.Errorf("update %q of talker %d answered again by %s: %s, which answered it at %s, was not killed while handling it", w, chat, calls[at[k]].Client, prev.Client, prev.At.Format("15:04:05.000"))
					continue
				}
				t.Logf("update %q answered again by %s: %s was killed after answering it at %s, before marking it done", w, calls[at[k]].Client, prev.Client, prev.At.Format("15:04:05.000"))
			}
		}
	}
	takenOver, midHandling := takeovers(reps)
	return fmt.Sprintf("updates sent %d, answered %d (the longest after %s), lost %d, answered twice %d (each in flight at a kill); updates taken over from killed replicas %d (%d of them mid-handling)",
		c.seq, answered, longest.Round(time.Millisecond), lost, twice, takenOver, midHandling)
}

// takeoverRE finds, in a replica's log, an update it took over from
// another, which one, and how many times its handling had started.
var takeoverRE = regexp.MustCompile(`taking over an update.*from=(\S+) tries=(\d+)`)

// takeovers counts the updates replicas took over from killed ones, and of
// those the ones whose handling had started.
func takeovers(reps []*replica) (all, started int) {
	dead := map[string]bool{} // process names, as replicas log them
	for _, r := range reps {
		if r.killed {
			dead[processNameOf(r.cmd.Process.Pid)] = true
		}
	}
	for _, r := range reps {
		b, err := os.ReadFile(r.log)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if m := takeoverRE.FindStringSubmatch(line); m != nil && dead[m[1]] {
				all++
				if n, _ := strconv.Atoi(m[2]); n > 0 {
					started++
				}
			}
		}
	}
	return all, started
}
