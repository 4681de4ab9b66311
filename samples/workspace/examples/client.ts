/**
 * Typed client for the Tidepool dashboard JSON API (see docs/monitoring.md).
 * Works in browsers and Node.js 18+ (global fetch).
 *
 *   const tp = new TidepoolClient("http://localhost:8787", process.env.TIDEPOOL_DASHBOARD_TOKEN);
 *   const { queues } = await tp.getStats();
 */

export type JobStatus = "queued" | "running" | "succeeded";

export interface QueueCounts {
  queued: number; // due now; "scheduled" = run_at in the future
  scheduled: number;
  running: number;
  succeeded: number;
  dead: number;
}

export interface Job {
  id: number;
  queue: string;
  task: string;
  args: Record<string, unknown>;
  status: JobStatus;
  priority: number;
  attempts: number;
  max_attempts: number;
  run_at: string;
  started_at: string | null;
  created_at: string;
  finished_at: string | null;
  locked_by: string | null; // "hostname:pid"
  last_error: string | null;
}

export interface DeadLetter {
  id: number; // pass to retryDeadLetter
  job_id: number;
  queue: string;
  task: string;
  args: Record<string, unknown>;
  attempts: number;
  last_error: string | null;
  failed_at: string;
}

/** Non-2xx response; 401 = bad token, 403 = read-only dashboard (no token configured). */
export class TidepoolApiError extends Error {
  constructor(public readonly status: number, message: string) {
    super(`HTTP ${status}: ${message}`);
  }
}

export class TidepoolClient {
  constructor(private readonly baseUrl: string, private readonly token?: string) {}

  getStats(): Promise<{ queues: Record<string, QueueCounts>; generated_at: string }> {
    return this.request("GET", "/api/stats");
  }

  async listJobs(filter: { status?: JobStatus; queue?: string; limit?: number } = {}): Promise<Job[]> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) {
      if (value !== undefined) params.set(key, String(value));
    }
    return (await this.request<{ jobs: Job[] }>("GET", `/api/jobs?${params}`)).jobs;
  }

  /** null once the job is gone (dead-lettered, cancelled or pruned). */
  async getJob(id: number): Promise<Job | null> {
    return this.request<Job>("GET", `/api/jobs/${id}`).catch((err) => {
      if (err instanceof TidepoolApiError && err.status === 404) return null;
      throw err;
    });
  }

  /** false if the job is no longer queued (HTTP 409). */
  async cancelJob(id: number): Promise<boolean> {
    return this.request("POST", `/api/jobs/${id}/cancel`).then(
      () => true,
      (err) => {
        if (err instanceof TidepoolApiError && err.status === 409) return false;
        throw err;
      },
    );
  }

  async listDeadLetters(limit = 50): Promise<DeadLetter[]> {
    return (await this.request<{ dead: DeadLetter[] }>("GET", `/api/dead?limit=${limit}`)).dead;
  }

  /** Re-enqueues a dead letter; resolves to the new job id. */
  async retryDeadLetter(id: number): Promise<number> {
    return (await this.request<{ job_id: number }>("POST", `/api/dead/${id}/retry`)).job_id;
  }

  private async request<T>(method: "GET" | "POST", path: string): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const res = await fetch(this.baseUrl.replace(/\/+$/, "") + path, { method, headers });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new TidepoolApiError(res.status, body?.error ?? res.statusText);
    return body as T;
  }
}
