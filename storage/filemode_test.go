package storage

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestNewFilesArePrivate: whichever way DATABASE_URL names a new SQLite
// file, the file and its -wal and -shm are created 0600; an existing file
// (from an older khqrbot) loses group and other access.
func TestNewFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url, file string
		want      os.FileMode
	}{
		{filepath.Join(dir, "plain.db"), filepath.Join(dir, "plain.db"), 0o600},
		{filepath.Join(dir, "50%?.db"), filepath.Join(dir, "50%?.db"), 0o600},
		{"file:" + filepath.Join(dir, "url.db") + "?_busy_timeout=1000", filepath.Join(dir, "url.db"), 0o600},
		{"file://" + filepath.Join(dir, "abs.db"), filepath.Join(dir, "abs.db"), 0o600},
		{existing, existing, 0o600},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			db, err := Open(context.Background(), tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.SetSetting(context.Background(), "k", "v"); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{tc.file, tc.file + "-wal", tc.file + "-shm"} {
				fi, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != tc.want {
					t.Errorf("%s is %v, want %v", filepath.Base(f), fi.Mode().Perm(), tc.want)
				}
			}
		})
	}
}
