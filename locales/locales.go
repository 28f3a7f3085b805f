// Package locales holds the bot's texts in English and Khmer and prints them
// in the user's language.
//
// Each language is one flat JSON object of key -> fmt format, embedded in the
// binary. A key missing from a language falls back to English, and an unknown
// key prints as itself, so a gap shows up as a visible key, never as a panic.
package locales

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

// Supported language codes.
const (
	English = "en"
	Khmer   = "km"
)

// Languages lists the supported languages, English (the fallback) first.
var Languages = []string{English, Khmer}

//go:embed en.json km.json
var files embed.FS

// tables maps a language to its key -> format table. Read-only after init.
var tables = load()

func load() map[string]map[string]string {
	t := make(map[string]map[string]string, len(Languages))
	for _, lang := range Languages {
		b, err := files.ReadFile(lang + ".json")
		if err != nil {
			panic(fmt.Sprintf("locales: embedded %s.json: %v", lang, err))
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("locales: parse %s.json: %v", lang, err))
		}
		t[lang] = m
	}
	return t
}

// Match returns the supported language for a Telegram language_code or a
// /lang argument: anything starting with "km" is Khmer, the rest English.
func Match(code string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(code)), Khmer) {
		return Khmer
	}
	return English
}

// Supported reports whether lang is exactly one of Languages.
func Supported(lang string) bool {
	_, ok := tables[lang]
	return ok
}

// Printer formats texts in one language.
type Printer struct {
	lang string
}

// New returns a Printer for lang; unsupported languages get English.
func New(lang string) *Printer {
	if !Supported(lang) {
		lang = English
	}
	return &Printer{lang: lang}
}

// Lang returns the printer's language code, for what draws text in it
// (the cards).
func (p *Printer) Lang() string { return p.lang }

// T formats the text for key with args (fmt verbs), in the printer's
// language, falling back to English and then to the key itself.
func (p *Printer) T(key string, args ...any) string {
	f, ok := tables[p.lang][key]
	if !ok {
		if f, ok = tables[English][key]; !ok {
			return key
		}
	}
	return fmt.Sprintf(f, args...)
}

// Keys returns every key of lang's table, for completeness checks.
func Keys(lang string) []string {
	keys := make([]string, 0, len(tables[lang]))
	for k := range tables[lang] {
		keys = append(keys, k)
	}
	return keys
}
