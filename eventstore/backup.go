package eventstore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/uuid"
)

// Backups: an online copy of the log, checked before it is used.
//
// Backup copies an open log while appends go on. A backup is a directory:
//
//	DIR/manifest.json   what the backup holds (BackupManifest), written last
//	DIR/log/            a Pebble checkpoint of the log: sstables, WAL,
//	                    MANIFEST, OPTIONS and markers, as OpenDir opens a
//	                    data dir
//
// The checkpoint is one moment of the log: a prefix of its append groups
// (each group is one atomic Pebble batch), with the subject keys (k|) and
// the secrets (x|) of that moment, sealed by the master key. The master
// key is never in a backup: keep it, separately, where the data dir is
// not. The manifest names the checkpoint's head (position and hash),
// signs it with the log's key (a SignedHead, in the anchor file's JSON
// form), and lists every file with its size and SHA-256.
//
// VerifyBackup checks a backup with the master key before anything uses
// it: the manifest, every file against it, the signed head, and then the
// whole log (Verify) read-only, whose head must be the manifest's. Restore
// verifies, copies the checkpoint into a new data dir and moves the anchor
// file to the backup's head (see Restore for the rules).
//
// Directories are made 0700 and files 0600. A backup or a restore that
// fails or is interrupted never leaves a complete-looking result: it works
// in a temporary sibling (DIR.partial-*) renamed into place at the end,
// or, when DIR is an existing empty directory (a mount point, say),
// inside it with the manifest (backup) or Pebble's marker files (restore)
// moved in last. A backup without manifest.json is refused as incomplete.

// BackupFormat is the version of the backup layout and manifest this
// package writes and reads.
const BackupFormat = 1

const (
	backupManifestName = "manifest.json"
	backupLogDir       = "log"
	// backupStagePrefix names the checkpoints Backup stages inside the data
	// dir (see PebbleStore.checkpoint).
	backupStagePrefix = ".backup-stage-"
	// keptAnchorSuffix follows the anchor file's name in the copy Restore
	// keeps of an anchor it moves back or replaces, with the UTC time.
	keptAnchorSuffix = ".before-restore-"
)

// Errors of backups and restores. Match them with errors.Is; the returned
// errors are a *BackupError, a *NotEmptyError or a *RestoreAnchorError.
var (
	// ErrBackupDamaged: a backup is incomplete (no manifest), or a file,
	// the manifest or the log in it does not check out.
	ErrBackupDamaged = errors.New("eventstore: backup damaged or incomplete")
	// ErrBackupKey: the backup is of a log with another master key.
	ErrBackupKey = errors.New("eventstore: backup of a log with another master key")
	// ErrNotEmpty: the directory a backup or a restore is to make exists
	// and is not empty.
	ErrNotEmpty = errors.New("eventstore: directory exists and is not empty")
	// ErrRestoreAnchor: the anchor file refuses the backup: it is of
	// another log or key, or the backup diverges from it.
	ErrRestoreAnchor = errors.New("eventstore: the anchor refuses the backup")
)

// BackupError says what is wrong with a backup, or what failed while
// making, checking or restoring one. It matches Kind (ErrBackupDamaged,
// ErrBackupKey, ErrDiskFull; nil for a plain I/O failure) and wraps Err.
type BackupError struct {
	Dir    string // the backup directory (for a restore's copy, its target)
	File   string // the file at fault, relative to Dir; "" for the whole
	Reason string
	Kind   error
	Err    error // the underlying error, if any
}

func (e *BackupError) Error() string {
	var b strings.Builder
	b.WriteString("eventstore: backup ")
	b.WriteString(e.Dir)
	if e.File != "" {
		b.WriteString(": ")
		b.WriteString(e.File)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is makes errors.Is(err, e.Kind) true.
func (e *BackupError) Is(target error) bool { return e.Kind != nil && target == e.Kind }

func (e *BackupError) Unwrap() error { return e.Err }

// NotEmptyError: a backup or a restore was to make Dir, which exists and
// is not empty. It matches ErrNotEmpty.
type NotEmptyError struct{ Dir string }

func (e *NotEmptyError) Error() string {
	return fmt.Sprintf("eventstore: %s exists and is not empty: give a new or an empty directory", e.Dir)
}

// Is makes errors.Is(err, ErrNotEmpty) true.
func (e *NotEmptyError) Is(target error) bool { return target == ErrNotEmpty }

// RestoreAnchorError: Restore refused the backup because of the anchor
// file (RestoreOptions.ReplaceAnchor overrides the first two reasons):
// the anchor is of another log, or not signed by the master key's log key
// (or unreadable), or it names a position the backup holds with another
// hash (the log was rewritten). It matches ErrRestoreAnchor.
type RestoreAnchorError struct {
	File   string
	Anchor SignedHead // zero if the file could not be read
	Backup SignedHead // the backup's head
	Reason string
}

func (e *RestoreAnchorError) Error() string {
	return fmt.Sprintf("eventstore: restore refused by the anchor %s: %s (anchor: %s; backup head: %s)", e.File, e.Reason, e.Anchor, e.Backup)
}

// Is makes errors.Is(err, ErrRestoreAnchor) true.
func (e *RestoreAnchorError) Is(target error) bool { return target == ErrRestoreAnchor }

// BackupManifest describes a backup; manifest.json holds it as JSON.
type BackupManifest struct {
	// Format is BackupFormat of the salesbot that made the backup.
	Format int
	LogID  uuid.UUID
	// Head is the checkpoint's head (position and hash of its last event;
	// position 0 for an empty log) signed with the log's key when the
	// backup was made: the anchor a restore writes.
	Head SignedHead
	// PublicKey is the log's public key, for auditors (FormatPublicKey).
	PublicKey ed25519.PublicKey
	Created   time.Time
	// Files are the backup's files, paths relative to the backup directory
	// ("log/000012.sst"), sorted.
	Files []BackupFile
	Bytes uint64 // the files' total size
}

// BackupFile is one file of a backup.
type BackupFile struct {
	Path   string
	Size   uint64
	SHA256 [32]byte
}

// manifestJSON is manifest.json. Position and hash repeat the signed
// head's for people reading the file.
type manifestJSON struct {
	Format     int        `json:"format"`
	LogID      uuid.UUID  `json:"log_id"`
	Position   uint64     `json:"position"`
	Hash       string     `json:"hash"`
	SignedHead anchorFile `json:"signed_head"`
	PublicKey  string     `json:"public_key"`
	Created    time.Time  `json:"created"`
	Files      []fileJSON `json:"files"`
	Bytes      uint64     `json:"bytes"`
}

type fileJSON struct {
	Path   string `json:"path"`
	Size   uint64 `json:"size"`
	SHA256 string `json:"sha256"`
}

func (m BackupManifest) encode() ([]byte, error) {
	j := manifestJSON{Format: m.Format, LogID: m.LogID, Position: m.Head.Position, Hash: hex.EncodeToString(m.Head.Hash[:]),
		SignedHead: anchorOf(m.Head), PublicKey: FormatPublicKey(m.PublicKey), Created: m.Created, Bytes: m.Bytes}
	for _, f := range m.Files {
		j.Files = append(j.Files, fileJSON{Path: f.Path, Size: f.Size, SHA256: hex.EncodeToString(f.SHA256[:])})
	}
	b, err := json.MarshalIndent(j, "", "  ")
	return append(b, '\n'), err
}

// ReadBackupManifest reads the manifest of the backup in dir and checks
// that it is well formed (its signature is VerifyBackup's to check). A
// directory without manifest is an incomplete backup (ErrBackupDamaged); a
// missing directory is a *BackupError that matches fs.ErrNotExist.
func ReadBackupManifest(dir string) (BackupManifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, backupManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return BackupManifest{}, &BackupError{Dir: dir, Reason: "no backup here", Err: serr}
		}
		return BackupManifest{}, &BackupError{Dir: dir, File: backupManifestName, Kind: ErrBackupDamaged,
			Reason: "is missing: the backup is incomplete (it did not finish) or this is not a backup"}
	}
	if err != nil {
		return BackupManifest{}, &BackupError{Dir: dir, File: backupManifestName, Reason: "cannot be read", Err: err}
	}
	damaged := func(format string, args ...any) (BackupManifest, error) {
		return BackupManifest{}, &BackupError{Dir: dir, File: backupManifestName, Kind: ErrBackupDamaged, Reason: fmt.Sprintf(format, args...)}
	}
	var j manifestJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return damaged("is not a backup manifest: %v", err)
	}
	if j.Format != BackupFormat {
		return damaged("is of format %d; this salesbot reads format %d", j.Format, BackupFormat)
	}
	head, err := j.SignedHead.signedHead()
	if err != nil {
		return damaged("signed head: %v", err)
	}
	if head.LogID != j.LogID || head.Position != j.Position || hex.EncodeToString(head.Hash[:]) != j.Hash {
		return damaged("log id, position or hash disagree with the signed head")
	}
	pub, err := ParsePublicKey([]byte(j.PublicKey))
	if err != nil {
		return damaged("public key: %v", err)
	}
	m := BackupManifest{Format: j.Format, LogID: j.LogID, Head: head, PublicKey: pub, Created: j.Created, Bytes: j.Bytes}
	seen := map[string]bool{}
	var total uint64
	for _, f := range j.Files {
		name, ok := strings.CutPrefix(f.Path, backupLogDir+"/")
		if !ok || !plainName(name) || seen[name] {
			return damaged("lists %q, which is not a file of the log directory, or twice", f.Path)
		}
		seen[name] = true
		sum, err := hex.DecodeString(f.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return damaged("the SHA-256 of %s is not 64 hex characters", f.Path)
		}
		bf := BackupFile{Path: f.Path, Size: f.Size}
		copy(bf.SHA256[:], sum)
		m.Files = append(m.Files, bf)
		total += f.Size
	}
	if len(m.Files) == 0 || total != m.Bytes {
		return damaged("lists %d files of %d bytes, and says %d bytes", len(m.Files), total, m.Bytes)
	}
	return m, nil
}

// plainName: a file name without directory (nothing a path could climb
// out of the backup with).
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`) && filepath.Base(name) == name
}

// Backup makes a backup of the open log in dir, which must not exist or
// be an empty directory (else a *NotEmptyError); its parent is made if
// needed. Appends go on meanwhile: the backup holds the log as it was at
// one moment, every append durable before Backup was called included (a
// writable store flushes its WAL first). The store may be read-only; it
// needs the master key (to sign the backup's head, ErrNoMasterKey
// without) and to live on the operating system's filesystem.
//
// Pebble checkpoints the log into a staging directory inside the data dir
// (hard links to its sstables, copies of the WAL and MANIFEST), from which
// Backup copies every file into the backup, hashing it on the way: the
// backup shares no file with the data dir even on the same disk, and a
// full backup disk fails the backup, never the running store. Backup
// refuses (a *DiskFullError) when the data dir's disk has too little room
// for the staged WAL above the store's free-space floor. A read-only
// store's Pebble files, which do not change while it is open, are copied
// from the data dir itself (its Close waits for the copy). Backups of one
// store run one at a time.
//
// Errors: a *NotEmptyError, a *BackupError (matching ErrDiskFull when the
// backup's disk filled up), ErrClosed, ctx's error. A failed Backup
// leaves nothing behind in dir (a directory it did not make stays, empty).
func (s *PebbleStore) Backup(ctx context.Context, dir string) (BackupManifest, error) {
	if s.m.publicOnly() {
		return BackupManifest{}, fmt.Errorf("eventstore: backup %s: %w", dir, ErrNoMasterKey)
	}
	if fs, ok := s.fs.(storeFS); !ok || !fs.private {
		return BackupManifest{}, fmt.Errorf("eventstore: backup %s: the log is not on the operating system's filesystem", dir)
	}
	s.backupMu.Lock()
	defer s.backupMu.Unlock()
	out, err := newOutDir(dir)
	if err != nil {
		return BackupManifest{}, err
	}
	defer out.abort()
	src, names, cleanup, err := s.checkpoint(ctx)
	if err != nil {
		return BackupManifest{}, err
	}
	defer cleanup()
	id, tip, err := s.checkpointTip(src)
	if err != nil {
		return BackupManifest{}, err
	}
	if id != s.id {
		return BackupManifest{}, fmt.Errorf("eventstore: backup %s: the checkpoint is of log %s, the store's is %s", dir, id, s.id)
	}
	logDir := filepath.Join(out.tmp, backupLogDir)
	if err := os.Mkdir(logDir, 0o700); err != nil {
		return BackupManifest{}, &BackupError{Dir: dir, Reason: "make the log directory", Err: err, Kind: diskFullKind(err)}
	}
	m := BackupManifest{Format: BackupFormat, LogID: s.id, PublicKey: s.m.pub}
	for _, name := range names {
		rel := backupLogDir + "/" + name
		size, sum, err := copyFile(ctx, filepath.Join(src, name), filepath.Join(logDir, name))
		if err != nil {
			if ctx.Err() != nil {
				return BackupManifest{}, ctx.Err()
			}
			return BackupManifest{}, &BackupError{Dir: dir, File: rel, Reason: "copy", Err: err, Kind: diskFullKind(err)}
		}
		m.Files = append(m.Files, BackupFile{Path: rel, Size: size, SHA256: sum})
		m.Bytes += size
	}
	if err := syncDir(logDir); err != nil {
		return BackupManifest{}, &BackupError{Dir: dir, File: backupLogDir, Reason: "sync", Err: err, Kind: diskFullKind(err)}
	}
	cleanup()
	m.Created = s.now().UTC().Round(0)
	m.Head = s.m.signHead(s.id, tip.pos, tip.hash, m.Created)
	b, err := m.encode()
	if err != nil {
		return BackupManifest{}, fmt.Errorf("eventstore: backup %s: encode the manifest: %w", dir, err)
	}
	if err := writeFileSync(filepath.Join(out.tmp, backupManifestName), b); err != nil {
		return BackupManifest{}, &BackupError{Dir: dir, File: backupManifestName, Reason: "write", Err: err, Kind: diskFullKind(err)}
	}
	if err := out.publish([]string{backupLogDir, backupManifestName}); err != nil {
		return BackupManifest{}, &BackupError{Dir: dir, Reason: "move into place", Err: err, Kind: diskFullKind(err)}
	}
	return m, nil
}

// checkpoint returns a directory holding the log at one moment and the
// names of its files to back up; cleanup removes what it made.
//
// A writable store has Pebble checkpoint the log into a staging directory
// inside its data dir, on the same disk: sstables are hard links there,
// the WAL and MANIFEST copies, and a full disk there is the store's own.
// What an interrupted backup staged is removed first.
//
// A read-only store's files do not change while it is open (Pebble
// writes nothing, and the store's lock keeps writers out), and Pebble
// cannot checkpoint a read-only database (it has no OPTIONS file of its
// own): its data dir is the moment, and its Pebble files are backed up.
func (s *PebbleStore) checkpoint(ctx context.Context) (dir string, names []string, cleanup func(), err error) {
	if err := ctx.Err(); err != nil {
		return "", nil, nil, err
	}
	if err := s.enter(); err != nil {
		return "", nil, nil, err
	}
	if s.readOnly {
		// The store stays open (Close waits) until cleanup, after the copy.
		entries, err := os.ReadDir(s.dir)
		if err != nil {
			s.closeMu.RUnlock()
			return "", nil, nil, fmt.Errorf("eventstore: backup: read the data dir: %w", err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() && pebbleFile(e.Name()) {
				names = append(names, e.Name())
			}
		}
		return s.dir, names, sync.OnceFunc(s.closeMu.RUnlock), nil
	}
	// The checkpoint is the store's own files, apart from it: the store
	// may close while they are copied.
	defer s.closeMu.RUnlock()
	// Leftovers of a backup interrupted by a crash: backups of this store
	// run one at a time (backupMu), and no other process has the data dir
	// open.
	if old, err := filepath.Glob(filepath.Join(s.dir, backupStagePrefix+"*")); err == nil {
		for _, p := range old {
			os.RemoveAll(p)
		}
	}
	// The staged WAL (and MANIFEST) are copies: keep them above the
	// store's floor, or the store would stop for a backup.
	need := s.floor + s.db.Metrics().WAL.PhysicalSize + 16<<20
	if err := checkFree(s.fs, s.dir, need); err != nil {
		return "", nil, nil, fmt.Errorf("eventstore: backup: stage the checkpoint: %w", err)
	}
	stage := filepath.Join(s.dir, backupStagePrefix+randomSuffix())
	cleanup = sync.OnceFunc(func() { os.RemoveAll(stage) })
	if err := s.db.Checkpoint(stage, pebble.WithFlushedWAL()); err != nil {
		cleanup()
		return "", nil, nil, fmt.Errorf("eventstore: backup: checkpoint the log: %w", err)
	}
	entries, err := os.ReadDir(stage)
	if err != nil {
		cleanup()
		return "", nil, nil, fmt.Errorf("eventstore: backup: read the checkpoint: %w", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() && e.Name() != "LOCK" {
			names = append(names, e.Name())
		}
	}
	return stage, names, cleanup, nil
}

// pebbleFile says whether a file of a data dir is Pebble's, one of the
// log's: not its LOCK, the ballast, or a file someone put there.
func pebbleFile(name string) bool {
	switch {
	case name == "CURRENT", strings.HasPrefix(name, "MANIFEST-"), strings.HasPrefix(name, "OPTIONS-"), strings.HasPrefix(name, "marker."):
		return true
	}
	ext := filepath.Ext(name)
	return (ext == ".sst" || ext == ".log" || ext == ".blob") && strings.TrimLeft(strings.TrimSuffix(name, ext), "0123456789") == ""
}

// checkpointTip opens a checkpoint read-only, without writing to it, and
// returns its log id and authenticated chain tip.
func (s *PebbleStore) checkpointTip(dir string) (uuid.UUID, chainTip, error) {
	db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true, ErrorIfNotExists: true, FS: noLockFS{vfs.Default}, Logger: pebbleLogger{s.log}})
	if err != nil {
		return uuid.Nil, chainTip{}, fmt.Errorf("eventstore: backup: open the checkpoint: %w", err)
	}
	defer db.Close()
	c := &PebbleStore{db: db, dir: dir, m: s.m, readOnly: true}
	if err := c.loadLogID(); err != nil {
		return uuid.Nil, chainTip{}, err
	}
	if err := c.loadTip(); err != nil {
		return uuid.Nil, chainTip{}, err
	}
	return c.id, c.tip, nil
}

// noLockFS takes no lock: opening a backup read-only writes nothing into
// it, not even Pebble's LOCK file. Nothing writes to a backup.
type noLockFS struct{ vfs.FS }

func (noLockFS) Lock(string) (io.Closer, error) { return io.NopCloser(nil), nil }
func (f noLockFS) Unwrap() vfs.FS               { return f.FS }

// VerifyBackup checks the backup in dir with the master key, reading
// only: its manifest (ReadBackupManifest); that it is of the master key's
// log (else a *BackupError matching ErrBackupKey); the signed head's
// signature; every file against the manifest (missing, altered, resized,
// or a file the manifest does not list); then the log itself, opened
// read-only and verified in full (Verify, which calls progress), whose
// head must be the signed head. Every failure of the backup is a
// *BackupError matching ErrBackupDamaged, naming the file where there is
// one; a failure of the log's Verify also matches ErrTampered.
func VerifyBackup(ctx context.Context, dir string, masterKey []byte, progress func(done, total uint64)) (BackupManifest, VerifyReport, error) {
	m, rep, _, err := verifyBackup(ctx, dir, masterKey, progress, 0)
	return m, rep, err
}

// verifyBackup is VerifyBackup; it also returns the hash of the backup's
// event at position at, if at is one of its positions (0: none).
func verifyBackup(ctx context.Context, dir string, masterKey []byte, progress func(done, total uint64), at uint64) (BackupManifest, VerifyReport, *[32]byte, error) {
	m, err := ReadBackupManifest(dir)
	if err != nil {
		return BackupManifest{}, VerifyReport{}, nil, err
	}
	pub, err := PublicKey(masterKey)
	if err != nil {
		return BackupManifest{}, VerifyReport{}, nil, err
	}
	damaged := func(file, reason string, err error) (BackupManifest, VerifyReport, *[32]byte, error) {
		return BackupManifest{}, VerifyReport{}, nil, &BackupError{Dir: dir, File: file, Reason: reason, Kind: ErrBackupDamaged, Err: err}
	}
	if !bytes.Equal(m.PublicKey, pub) {
		return BackupManifest{}, VerifyReport{}, nil, &BackupError{Dir: dir, Kind: ErrBackupKey,
			Reason: fmt.Sprintf("is of log %s, whose public key is %s; this master key's is %s: restore it with the master key it was made with", m.LogID, FormatPublicKey(m.PublicKey), FormatPublicKey(pub))}
	}
	if !m.Head.Check(pub) {
		return damaged(backupManifestName, "the signed head fails its signature (the manifest was altered)", nil)
	}
	if err := checkBackupFiles(ctx, dir, m); err != nil {
		return BackupManifest{}, VerifyReport{}, nil, err
	}
	st, err := Open(filepath.Join(dir, backupLogDir), Options{MasterKey: masterKey, ReadOnly: true, FS: noLockFS{vfs.Default}, CacheSize: 32 << 20})
	if err != nil {
		if errors.Is(err, ErrTampered) || errors.Is(err, ErrNoLog) || pebble.IsCorruptionError(err) {
			return damaged(backupLogDir, "the log does not open", err)
		}
		return BackupManifest{}, VerifyReport{}, nil, &BackupError{Dir: dir, File: backupLogDir, Reason: "open the log", Err: err}
	}
	defer st.Close()
	if st.LogID() != m.LogID {
		return damaged(backupLogDir, fmt.Sprintf("the log is %s, the manifest's %s", st.LogID(), m.LogID), nil)
	}
	rep, err := st.Verify(ctx, progress)
	if err != nil {
		if errors.Is(err, ErrTampered) || pebble.IsCorruptionError(err) {
			return damaged(backupLogDir, "the log does not verify", err)
		}
		return BackupManifest{}, VerifyReport{}, nil, fmt.Errorf("eventstore: verify backup %s: %w", dir, err)
	}
	if rep.Events != m.Head.Position || (m.Head.Position > 0 && rep.HeadHash != m.Head.Hash) {
		return damaged(backupLogDir, fmt.Sprintf("the log's head is position %d hash %x, the manifest's %s", rep.Events, rep.HeadHash, m.Head), nil)
	}
	if at == 0 || at > rep.Events {
		return m, rep, nil, nil
	}
	h, err := st.HashAt(ctx, at)
	if err != nil {
		return BackupManifest{}, VerifyReport{}, nil, fmt.Errorf("eventstore: verify backup %s: %w", dir, err)
	}
	return m, rep, &h, nil
}

// checkBackupFiles checks the files of a backup against its manifest.
func checkBackupFiles(ctx context.Context, dir string, m BackupManifest) error {
	damaged := func(file, format string, args ...any) error {
		return &BackupError{Dir: dir, File: file, Kind: ErrBackupDamaged, Reason: fmt.Sprintf(format, args...)}
	}
	entries, err := os.ReadDir(filepath.Join(dir, backupLogDir))
	if err != nil {
		return &BackupError{Dir: dir, File: backupLogDir, Kind: ErrBackupDamaged, Reason: "cannot be read", Err: err}
	}
	listed := map[string]BackupFile{}
	for _, f := range m.Files {
		listed[f.Path] = f
	}
	for _, e := range entries {
		rel := backupLogDir + "/" + e.Name()
		if _, ok := listed[rel]; !ok && e.Name() != "LOCK" {
			return damaged(rel, "is not in the manifest (added after the backup was made)")
		}
	}
	for _, f := range m.Files {
		fi, err := os.Lstat(filepath.Join(dir, f.Path))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return damaged(f.Path, "is missing")
		case err != nil:
			return &BackupError{Dir: dir, File: f.Path, Reason: "cannot be read", Err: err}
		case !fi.Mode().IsRegular():
			return damaged(f.Path, "is not a regular file")
		case uint64(fi.Size()) != f.Size:
			return damaged(f.Path, "has %d bytes, the manifest says %d", fi.Size(), f.Size)
		}
		sum, err := hashFile(ctx, filepath.Join(dir, f.Path))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &BackupError{Dir: dir, File: f.Path, Reason: "cannot be read", Err: err}
		}
		if sum != f.SHA256 {
			return damaged(f.Path, "was altered: its SHA-256 is %x, the manifest says %x", sum, f.SHA256)
		}
	}
	return nil
}

// RestoreOptions say how Restore makes a data dir of a backup.
type RestoreOptions struct {
	// MasterKey is the log's master key; or KeyFile, the master key file
	// (loaded with LoadMasterKey, as OpenDir does).
	MasterKey []byte
	KeyFile   string
	// AnchorFile is the anchor of the restored log, the one OpenDir will
	// use: empty means anchor.json next to KeyFile (DirOptions.Anchor),
	// and none without KeyFile.
	AnchorFile string
	// ReplaceAnchor replaces an anchor file of another log or key (or one
	// that cannot be read) instead of refusing the restore; the old file is
	// kept next to it.
	ReplaceAnchor bool
	// Progress is Verify's, called while the backup is verified.
	Progress func(done, total uint64)
	// Now names the kept copy of an old anchor; nil means time.Now.
	Now func() time.Time
}

// AnchorAction is what Restore did to the anchor file.
type AnchorAction int

const (
	// AnchorNone: no anchor file was given.
	AnchorNone AnchorAction = iota
	// AnchorWritten: there was no anchor file; it holds the backup's head.
	AnchorWritten
	// AnchorUnchanged: the anchor held the backup's head already.
	AnchorUnchanged
	// AnchorForward: the anchor named an earlier event of the backup; it
	// was moved forward to the backup's head.
	AnchorForward
	// AnchorBack: the anchor was ahead of the backup (an older backup
	// restored); it was moved back to the backup's head, losing
	// RestoreReport.Lost positions, and the old one kept.
	AnchorBack
	// AnchorReplaced: the anchor was of another log or key, or unreadable,
	// and ReplaceAnchor replaced it; the old one was kept.
	AnchorReplaced
)

func (a AnchorAction) String() string {
	switch a {
	case AnchorNone:
		return "none"
	case AnchorWritten:
		return "written"
	case AnchorUnchanged:
		return "unchanged"
	case AnchorForward:
		return "moved forward"
	case AnchorBack:
		return "moved back"
	case AnchorReplaced:
		return "replaced"
	}
	return fmt.Sprintf("AnchorAction(%d)", int(a))
}

// RestoreReport says what Restore restored and did to the anchor.
type RestoreReport struct {
	Manifest BackupManifest
	Verify   VerifyReport
	// AnchorFile is the anchor file Restore looked at ("" for none), and
	// Anchor what it did to it.
	AnchorFile string
	Anchor     AnchorAction
	// Before is the anchor as it was (nil if there was none or it could
	// not be read), and KeptAnchor the file it was kept in when Restore
	// moved it back or replaced it.
	Before     *SignedHead
	KeptAnchor string
	// Lost is, for AnchorBack, how many positions the anchor had beyond
	// the backup's head: events appended after the backup was made, which
	// the restored log does not hold.
	Lost uint64
}

// Restore makes the data dir to of the backup in from: it verifies the
// backup (VerifyBackup; nothing is written when it fails), decides what
// to do with the anchor file (below; a refusal writes nothing either),
// copies the checkpoint into to (copies: the backup stays as it is),
// checking every file against the manifest again as it copies, moves the
// anchor, and only then puts to in place. to must not exist or be an empty
// directory (else a *NotEmptyError); its parent is made if needed.
//
// The anchor, the latest signed head kept outside the data dir:
//
//   - none: the backup's signed head is written;
//   - of this log, at or before the backup's head, with the backup's hash
//     at its position: moved forward to the backup's head (or unchanged);
//   - of this log, at a position the backup holds with another hash: the
//     backup diverges from the anchor (a rewritten log), refused;
//   - of this log, ahead of the backup's head (an older backup restored
//     after the data dir was lost): moved back to the backup's head, as
//     the operator asked, the old one kept in <anchor>.before-restore-<UTC
//     time> and the positions lost reported (RestoreReport.Lost);
//   - of another log, or not signed by this master key's log key, or not
//     readable: refused (a *RestoreAnchorError), unless ReplaceAnchor, then
//     replaced with the old one kept as above.
//
// After Restore, OpenDir opens to with the same key and anchor.
func Restore(ctx context.Context, from, to string, opts RestoreOptions) (RestoreReport, error) {
	key := opts.MasterKey
	if key == nil {
		if opts.KeyFile == "" {
			return RestoreReport{}, errors.New("eventstore: restore: no master key given")
		}
		var err error
		if key, _, err = LoadMasterKey(opts.KeyFile, false); err != nil {
			return RestoreReport{}, err
		}
	}
	rep := RestoreReport{AnchorFile: DirOptions{KeyFile: opts.KeyFile, Options: Options{AnchorFile: opts.AnchorFile}}.Anchor()}
	if err := checkEmpty(to); err != nil {
		return RestoreReport{}, err
	}
	var before SignedHead
	var found bool
	var anchorErr error
	if rep.AnchorFile != "" {
		before, found, anchorErr = LoadAnchor(rep.AnchorFile)
		if anchorErr == nil && found {
			rep.Before = &before
		}
	}
	var at uint64
	if found {
		at = before.Position
	}
	m, vrep, hashAt, err := verifyBackup(ctx, from, key, opts.Progress, at)
	if err != nil {
		return RestoreReport{}, err
	}
	rep.Manifest, rep.Verify = m, vrep
	refuse := func(reason string) (RestoreReport, error) {
		return RestoreReport{}, &RestoreAnchorError{File: rep.AnchorFile, Anchor: before, Backup: m.Head, Reason: reason}
	}
	switch head := m.Head; {
	case rep.AnchorFile == "":
		rep.Anchor = AnchorNone
	case anchorErr != nil && !opts.ReplaceAnchor:
		return refuse(anchorErr.Error())
	case anchorErr != nil:
		rep.Anchor = AnchorReplaced
	case !found:
		rep.Anchor = AnchorWritten
	case !before.Check(m.PublicKey) || before.LogID != m.LogID:
		if !opts.ReplaceAnchor {
			return refuse(fmt.Sprintf("it is not an anchor of log %s signed by this master key (another log, or another key)", m.LogID))
		}
		rep.Anchor = AnchorReplaced
	case before.Position > head.Position:
		rep.Anchor, rep.Lost = AnchorBack, before.Position-head.Position
	case before.Position > 0 && (hashAt == nil || *hashAt != before.Hash):
		return refuse(fmt.Sprintf("the backup diverges from it: its event at position %d has another hash (the log was rewritten)", before.Position))
	case before.Position == head.Position:
		rep.Anchor = AnchorUnchanged
	default:
		rep.Anchor = AnchorForward
	}
	if rep.Anchor != AnchorNone && rep.Anchor != AnchorUnchanged {
		if err := checkAnchorWritable(rep.AnchorFile); err != nil {
			return RestoreReport{}, err
		}
	}
	out, err := newOutDir(to)
	if err != nil {
		return RestoreReport{}, err
	}
	defer out.abort()
	var names, markers []string
	for _, f := range m.Files {
		name := strings.TrimPrefix(f.Path, backupLogDir+"/")
		size, sum, err := copyFile(ctx, filepath.Join(from, f.Path), filepath.Join(out.tmp, name))
		if err != nil {
			if ctx.Err() != nil {
				return RestoreReport{}, ctx.Err()
			}
			return RestoreReport{}, &BackupError{Dir: to, File: name, Reason: "copy from the backup", Err: err, Kind: diskFullKind(err)}
		}
		if size != f.Size || sum != f.SHA256 {
			return RestoreReport{}, &BackupError{Dir: from, File: f.Path, Kind: ErrBackupDamaged, Reason: "changed while it was restored"}
		}
		// Pebble's markers last: without them a partly moved-in data dir
		// holds no log.
		if strings.HasPrefix(name, "marker.") {
			markers = append(markers, name)
		} else {
			names = append(names, name)
		}
	}
	if err := syncDir(out.tmp); err != nil {
		return RestoreReport{}, &BackupError{Dir: to, Reason: "sync", Err: err, Kind: diskFullKind(err)}
	}
	if rep.Anchor == AnchorBack || rep.Anchor == AnchorReplaced {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		rep.KeptAnchor = rep.AnchorFile + keptAnchorSuffix + now().UTC().Format("20060102T150405Z")
		if err := keepFile(rep.AnchorFile, rep.KeptAnchor); err != nil {
			return RestoreReport{}, fmt.Errorf("eventstore: restore: keep the anchor %s: %w", rep.AnchorFile, err)
		}
	}
	if rep.Anchor != AnchorNone && rep.Anchor != AnchorUnchanged {
		if err := writeAnchor(rep.AnchorFile, m.Head); err != nil {
			return RestoreReport{}, err
		}
	}
	if err := out.publish(append(names, markers...)); err != nil {
		return RestoreReport{}, &BackupError{Dir: to, Reason: "move into place", Err: err, Kind: diskFullKind(err)}
	}
	return rep, nil
}

// outDir is a directory that a backup or a restore makes: it is written in
// tmp and published when complete.
type outDir struct {
	dir, tmp string
	existed  bool     // dir was an empty directory: tmp is inside it
	moved    []string // names published into an existing dir
	done     bool
}

// newOutDir checks that dir is absent or empty and makes the temporary
// directory to write it in: a sibling DIR.partial-*, or inside an
// existing dir (which may be a mount point, another disk than its parent).
func newOutDir(dir string) (*outDir, error) {
	if err := checkEmpty(dir); err != nil {
		return nil, err
	}
	o := &outDir{dir: dir}
	parent := filepath.Dir(dir)
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		o.existed, parent = true, dir
		_ = os.Chmod(dir, 0o700) // best effort: it will hold the log
	} else if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("eventstore: make %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dir)+".partial-")
	if err != nil {
		return nil, &BackupError{Dir: dir, Reason: "make a temporary directory", Err: err, Kind: diskFullKind(err)}
	}
	o.tmp = tmp
	return o, nil
}

// publish puts the result in place: renames tmp to dir, or moves names
// from tmp into the existing dir in their order; then syncs.
func (o *outDir) publish(names []string) error {
	if !o.existed {
		if err := os.Rename(o.tmp, o.dir); err != nil {
			return err
		}
		o.done = true
		return syncDir(filepath.Dir(o.dir))
	}
	for _, n := range names {
		if err := os.Rename(filepath.Join(o.tmp, n), filepath.Join(o.dir, n)); err != nil {
			return err
		}
		o.moved = append(o.moved, n)
		if err := syncDir(o.dir); err != nil {
			return err
		}
	}
	o.done = true
	return os.Remove(o.tmp)
}

// abort removes what an unfinished backup or restore wrote.
func (o *outDir) abort() {
	if o.done {
		return
	}
	os.RemoveAll(o.tmp)
	for _, n := range o.moved {
		os.RemoveAll(filepath.Join(o.dir, n))
	}
}

// checkEmpty returns a *NotEmptyError when dir exists and holds anything.
func checkEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("eventstore: %s: %w", dir, err)
	case len(entries) > 0:
		return &NotEmptyError{Dir: dir}
	}
	return nil
}

// copyFile copies src to a new file dst (mode 0600), synced, and returns
// the size and SHA-256 of what it copied.
func copyFile(ctx context.Context, src, dst string) (uint64, [32]byte, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, [32]byte{}, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, [32]byte{}, err
	}
	h := sha256.New()
	n, err := copyContext(ctx, io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, [32]byte{}, err
	}
	return uint64(n), [32]byte(h.Sum(nil)), nil
}

// hashFile is the SHA-256 of the file at path.
func hashFile(ctx context.Context, path string) ([32]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := copyContext(ctx, h, f); err != nil {
		return [32]byte{}, err
	}
	return [32]byte(h.Sum(nil)), nil
}

// copyContext is io.Copy that stops when ctx ends.
func copyContext(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, rerr := r.Read(buf)
		if k > 0 {
			if _, err := w.Write(buf[:k]); err != nil {
				return n, err
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// writeFileSync writes a new file (mode 0600) and syncs it.
func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// keepFile copies the file src to dst (mode 0600), synced, and syncs
// their directory.
func keepFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := writeFileSync(dst, b); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

// syncDir makes the entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// diskFullKind is ErrDiskFull for an error of a full disk, else nil.
func diskFullKind(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return ErrDiskFull
	}
	return nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
