package bot

import (
	"fmt"
	"strconv"
	"strings"
)

// action is what an inline button does; it is the prefix of its callback data.
type action string

// Button actions. Every press is checked again against who pressed it.
const (
	actCheck  action = "chk" // ID: QR; ask Bakong now
	actCancel action = "cnl" // ID: invoice; admins only
	actNew    action = "new" // ID: the expired or failed QR; issue a fresh one
	actSim    action = "sim" // ID: QR; sandbox only
	actPage   action = "pg"  // ID: page of /pending; admins only
	actAccept action = "acc" // ID: payment in review; admins only: it settles the invoice
	actReject action = "rej" // ID: payment in review; admins only: refused, to be refunded
)

// maxCallbackData is Telegram's limit on callback_data, in bytes.
const maxCallbackData = 64

// callback is a button's data: an action and the id it acts on.
type callback struct {
	Action action
	ID     int64
}

// String encodes c as "chk:42"; at most 24 bytes, far below Telegram's 64.
func (c callback) String() string { return string(c.Action) + ":" + strconv.FormatInt(c.ID, 10) }

// parseCallback decodes callback data made by callback.String.
func parseCallback(s string) (callback, error) {
	a, id, ok := strings.Cut(s, ":")
	if !ok || len(s) > maxCallbackData {
		return callback{}, fmt.Errorf("callback data %q: want action:id", s)
	}
	switch action(a) {
	case actCheck, actCancel, actNew, actSim, actPage, actAccept, actReject:
	default:
		return callback{}, fmt.Errorf("callback data %q: unknown action %q", s, a)
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 0 || (n == 0 && action(a) != actPage) {
		return callback{}, fmt.Errorf("callback data %q: bad id %q", s, id)
	}
	return callback{Action: action(a), ID: n}, nil
}
