package demos

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// PolicyVersion is one learned policy version in the store: its identity,
// lineage, checkpoint file and card, and evaluation. The current version
// of a task is the one its newest promotion names.
type PolicyVersion struct {
	Version  string          `json:"version"`
	Task     string          `json:"task"`
	Algo     string          `json:"algo"`
	Parent   string          `json:"parent,omitempty"`
	Created  time.Time       `json:"created"`
	Path     string          `json:"checkpoint"` // relative to the data directory
	Digest   string          `json:"digest"`     // sha256 of the checkpoint, hex
	Card     json.RawMessage `json:"card,omitempty"`
	Eval     json.RawMessage `json:"eval,omitempty"`
	Note     string          `json:"note,omitempty"`
	Promoted bool            `json:"promoted"` // the task's current version
	// PromotedAt is when it last became current (zero if never).
	PromotedAt time.Time `json:"promoted_at,omitzero"`
}

// versionName is what a version may be called: it names files and appears
// in URLs and step rows.
var versionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// ErrNoPolicy is returned for a version the store does not hold.
var ErrNoPolicy = errors.New("demos: no such policy version")

// AddPolicy stores a new version (not promoted). Its name must be unused.
func (s *Store) AddPolicy(ctx context.Context, v PolicyVersion) error {
	if err := s.writable(); err != nil {
		return err
	}
	if !versionName.MatchString(v.Version) {
		return fmt.Errorf("demos: policy version %q: 1-128 letters, digits, '_', '.', '-', starting with a letter or digit", v.Version)
	}
	if v.Task == "" || v.Algo == "" || v.Path == "" || v.Digest == "" {
		return errors.New("demos: a policy version needs a task, an algorithm, a checkpoint path and its digest")
	}
	if v.Created.IsZero() {
		v.Created = time.Now()
	}
	card, eval := string(v.Card), string(v.Eval)
	if card == "" {
		card = "{}"
	}
	if eval == "" {
		eval = "{}"
	}
	if !json.Valid([]byte(card)) || !json.Valid([]byte(eval)) {
		return errors.New("demos: a policy version's card and evaluation must be JSON")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO policies (version, task, algo, parent, created_at, path, digest, card, eval, note)
	VALUES (?,?,?,?,?,?,?,?,?,?)`, v.Version, v.Task, v.Algo, v.Parent, v.Created.UnixNano(), v.Path, v.Digest, card, eval, v.Note)
	if err != nil {
		return fmt.Errorf("demos: add policy %s: %w", v.Version, err)
	}
	return nil
}

// SetPolicyEval replaces a version's evaluation results.
func (s *Store) SetPolicyEval(ctx context.Context, version string, eval json.RawMessage) error {
	if err := s.writable(); err != nil {
		return err
	}
	if !json.Valid(eval) {
		return errors.New("demos: evaluation must be JSON")
	}
	res, err := s.db.ExecContext(ctx, `UPDATE policies SET eval = ? WHERE version = ?`, string(eval), version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrNoPolicy, version)
	}
	return nil
}

const policyCols = `p.version, p.task, p.algo, p.parent, p.created_at, p.path, p.digest, p.card, p.eval, p.note,
	coalesce((SELECT q.version = p.version FROM promotions q WHERE q.task = p.task ORDER BY q.id DESC LIMIT 1), 0),
	coalesce((SELECT max(q.at) FROM promotions q WHERE q.version = p.version), 0)`

func scanPolicy(sc interface{ Scan(...any) error }) (PolicyVersion, error) {
	var v PolicyVersion
	var created, promotedAt int64
	var card, eval string
	if err := sc.Scan(&v.Version, &v.Task, &v.Algo, &v.Parent, &created, &v.Path, &v.Digest, &card, &eval, &v.Note, &v.Promoted, &promotedAt); err != nil {
		return v, err
	}
	v.Created = time.Unix(0, created).UTC()
	if promotedAt != 0 {
		v.PromotedAt = time.Unix(0, promotedAt).UTC()
	}
	v.Card, v.Eval = json.RawMessage(card), json.RawMessage(eval)
	return v, nil
}

// Policies lists the stored versions of task (all tasks when empty),
// oldest first.
func (s *Store) Policies(ctx context.Context, task string) ([]PolicyVersion, error) {
	q := `SELECT ` + policyCols + ` FROM policies p`
	var args []any
	if task != "" {
		q += ` WHERE p.task = ?`
		args = append(args, task)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY p.created_at, p.version`, args...)
	if err != nil {
		return nil, fmt.Errorf("demos: list policies: %w", err)
	}
	defer rows.Close()
	out := []PolicyVersion{}
	for rows.Next() {
		v, err := scanPolicy(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Policy returns one version.
func (s *Store) Policy(ctx context.Context, version string) (PolicyVersion, error) {
	v, err := scanPolicy(s.db.QueryRowContext(ctx, `SELECT `+policyCols+` FROM policies p WHERE p.version = ?`, version))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%w: %s", ErrNoPolicy, version)
	}
	return v, err
}

// Current returns the task's current (most recently promoted) version;
// ok is false when none was ever promoted.
func (s *Store) Current(ctx context.Context, task string) (v PolicyVersion, ok bool, err error) {
	var version string
	err = s.db.QueryRowContext(ctx, `SELECT version FROM promotions WHERE task = ? ORDER BY id DESC LIMIT 1`, task).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	v, err = s.Policy(ctx, version)
	return v, err == nil, err
}

// Promote makes version its task's current version, with a reason kept in
// the history.
func (s *Store) Promote(ctx context.Context, version, reason string) error {
	if err := s.writable(); err != nil {
		return err
	}
	v, err := s.Policy(ctx, version)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO promotions (task, version, at, reason) VALUES (?,?,?,?)`,
		v.Task, v.Version, time.Now().UnixNano(), reason)
	return err
}

// Rollback makes the task's previously current version current again (the
// promotion before the newest one that names another version) and returns
// it. With no earlier version it fails and changes nothing.
func (s *Store) Rollback(ctx context.Context, task, reason string) (PolicyVersion, error) {
	if err := s.writable(); err != nil {
		return PolicyVersion{}, err
	}
	cur, ok, err := s.Current(ctx, task)
	if err != nil {
		return PolicyVersion{}, err
	}
	if !ok {
		return PolicyVersion{}, fmt.Errorf("demos: task %s has no promoted version to roll back", task)
	}
	var prev string
	err = s.db.QueryRowContext(ctx, `SELECT version FROM promotions WHERE task = ? AND version != ? ORDER BY id DESC LIMIT 1`,
		task, cur.Version).Scan(&prev)
	if errors.Is(err, sql.ErrNoRows) {
		return PolicyVersion{}, fmt.Errorf("demos: task %s has no version before %s to roll back to", task, cur.Version)
	}
	if err != nil {
		return PolicyVersion{}, err
	}
	if err := s.Promote(ctx, prev, reason); err != nil {
		return PolicyVersion{}, err
	}
	return s.Policy(ctx, prev)
}

// Promotion is one row of the promotion history: at At, Version became
// its task's current version, for Reason (a rollback is a promotion of
// the version before).
type Promotion struct {
	Task    string    `json:"task"`
	Version string    `json:"version"`
	At      time.Time `json:"at"`
	Reason  string    `json:"reason"`
}

// Promotions returns the newest limit rows of the promotion history of
// task (every task when ""), oldest first.
func (s *Store) Promotions(ctx context.Context, task string, limit int) ([]Promotion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT task, version, at, reason FROM
	(SELECT id, task, version, at, reason FROM promotions WHERE ? = '' OR task = ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
		task, task, limit)
	if err != nil {
		return nil, fmt.Errorf("demos: promotions: %w", err)
	}
	defer rows.Close()
	out := []Promotion{}
	for rows.Next() {
		var p Promotion
		var at int64
		if err := rows.Scan(&p.Task, &p.Version, &at, &p.Reason); err != nil {
			return nil, err
		}
		p.At = time.Unix(0, at).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// NextPolicyVersion returns an unused version name task-algo-N, N one more
// than the highest so far for that task and algorithm.
func (s *Store) NextPolicyVersion(ctx context.Context, task, algo string) (string, error) {
	prefix := task + "-" + algo + "-"
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM policies WHERE task = ? AND algo = ?`, task, algo)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return "", err
		}
		var k int
		if _, err := fmt.Sscanf(v[min(len(prefix), len(v)):], "%d", &k); err == nil && len(v) > len(prefix) && v[:len(prefix)] == prefix {
			n = max(n, k)
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%d", prefix, n+1), nil
}
