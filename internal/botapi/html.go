package botapi

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// htmlTags are the tags Telegram's HTML parse mode accepts.
var htmlTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "code": true, "pre": true, "blockquote": true, "tg-emoji": true,
}

// render returns the text a user sees for src in parseMode. HTML is checked
// as Telegram checks it (so an unescaped "<" fails the way it would in
// production); Markdown modes are kept as they are.
func render(src, parseMode string) (string, *Error) {
	switch strings.ToLower(parseMode) {
	case "":
		return src, nil
	case "markdown", "markdownv2":
		return src, nil
	case "html":
		plain, err := parseHTML(src)
		if err != "" {
			return "", badRequest("can't parse entities: " + err)
		}
		return plain, nil
	}
	return "", badRequest("unsupported parse_mode")
}

// parseHTML strips Telegram HTML to plain text, or describes why Telegram
// would refuse it.
func parseHTML(s string) (string, string) {
	var b strings.Builder
	var open []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				return "", fmt.Sprintf("Unclosed start tag at byte offset %d", i)
			}
			tag := s[i+1 : i+j]
			if name, ok := strings.CutPrefix(tag, "/"); ok {
				name = strings.ToLower(strings.TrimSpace(name))
				if len(open) == 0 {
					return "", fmt.Sprintf("Unexpected end tag at byte offset %d", i)
				}
				if top := open[len(open)-1]; name != top {
					return "", fmt.Sprintf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top, name)
				}
				open = open[:len(open)-1]
			} else {
				name := tag
				if k := strings.IndexAny(tag, " \t\n/"); k >= 0 {
					name = tag[:k]
				}
				name = strings.ToLower(name)
				if !htmlTags[name] {
					return "", fmt.Sprintf("Unsupported start tag \"%s\" at byte offset %d", name, i)
				}
				open = append(open, name)
			}
			i += j + 1
		case '&':
			if j := strings.IndexByte(s[i:], ';'); j > 1 {
				if r, ok := htmlEntity(s[i+1 : i+j]); ok {
					b.WriteString(r)
					i += j + 1
					continue
				}
			}
			b.WriteByte('&')
			i++
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Sprintf("Can't find end tag corresponding to start tag \"%s\"", open[len(open)-1])
	}
	return b.String(), ""
}

func htmlEntity(name string) (string, bool) {
	switch name {
	case "lt":
		return "<", true
	case "gt":
		return ">", true
	case "amp":
		return "&", true
	case "quot":
		return "\"", true
	}
	num, ok := strings.CutPrefix(name, "#")
	if !ok {
		return "", false
	}
	base := 10
	if h, ok := strings.CutPrefix(strings.ToLower(num), "x"); ok {
		num, base = h, 16
	}
	n, err := strconv.ParseUint(num, base, 32)
	if err != nil || n > 0x10FFFF {
		return "", false
	}
	return string(rune(n)), true
}

// utf16Len is the length of s in UTF-16 code units, Telegram's unit.
func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }
