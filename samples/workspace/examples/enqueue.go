// Command enqueue inserts a Tidepool job from Go with plain SQL.
//
//	TIDEPOOL_DATABASE_URL=postgres://... go run enqueue.go -task send_welcome_email -queue emails -args '{"user_id": 42}'
//
// args must be a JSON object (keyword arguments) and task must match the name
// registered by the Python worker. max_attempts falls back to the column
// default (5), not to TIDEPOOL_MAX_ATTEMPTS.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Same statement as tidepool.queue.ENQUEUE_SQL. The ON CONFLICT clause must
// repeat the partial index predicate so PostgreSQL can infer the unique index.
const enqueueSQL = `
INSERT INTO tidepool_jobs (queue, task, args, priority, run_at, unique_key)
VALUES ($1, $2, $3::jsonb, $4, now() + make_interval(secs => $5), $6)
ON CONFLICT (unique_key) WHERE status IN ('queued', 'running') DO NOTHING
RETURNING id`

// ErrDuplicate means a job with the same unique key is still queued or running.
var ErrDuplicate = errors.New("tidepool: duplicate unique key")

// Enqueue inserts a job. Pass a *sql.Tx as q to commit it with your own writes.
func Enqueue(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, queue, task string, args map[string]any, delay time.Duration, uniqueKey string) (int64, error) {
	payload, err := json.Marshal(args)
	if err != nil {
		return 0, err
	}
	var id int64
	err = q.QueryRowContext(ctx, enqueueSQL, queue, task, string(payload), int16(0),
		delay.Seconds(), sql.NullString{String: uniqueKey, Valid: uniqueKey != ""}).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrDuplicate
	}
	return id, err
}

func main() {
	task := flag.String("task", "", "registered task name")
	queue := flag.String("queue", "default", "queue name")
	rawArgs := flag.String("args", "{}", "JSON object of keyword arguments")
	delay := flag.Duration("delay", 0, "delay before the job is due, e.g. 10m")
	unique := flag.String("unique-key", "", "skip if a pending job has this key")
	flag.Parse()

	args := map[string]any{}
	if err := json.Unmarshal([]byte(*rawArgs), &args); err != nil || *task == "" {
		log.Fatalf("usage: -task NAME [-args JSON-object] (%v)", err)
	}
	db, err := sql.Open("pgx", os.Getenv("TIDEPOOL_DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	id, err := Enqueue(ctx, db, *queue, *task, args, *delay, *unique)
	switch {
	case errors.Is(err, ErrDuplicate):
		fmt.Println("skipped: a job with this unique key is pending")
	case err != nil:
		log.Fatalf("enqueue: %v", err)
	default:
		fmt.Printf("enqueued job %d\n", id)
	}
}
