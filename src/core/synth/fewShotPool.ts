/**
 * Few-shot examples for the query writer, written for this project (never taken from an evaluation
 * set, as the method requires). Each example passage carries one query per type, so every type's
 * pool holds the same twelve passages: a mix of code, API docs, configuration, error-handling notes
 * and plain prose, so a prompt shows the model both what to write and that any passage can be asked
 * about. Prose passages have no error-message or identifier query (those types are for technical
 * passages only), so those two pools hold the eight technical examples. Three are drawn per prompt.
 */
export interface FewShotExample {
  passage: string;
  /** One query per type id; a type missing here does not apply to this kind of passage. */
  queries: Partial<Record<string, string>>;
}

export const FEW_SHOT_POOL: readonly FewShotExample[] = [
  {
    passage:
      'def retry(fn, attempts=5, base_delay=0.5):\n    """Call fn, retrying on ConnectionError with exponential backoff."""\n    for attempt in range(attempts):\n        try:\n            return fn()\n        except ConnectionError:\n            if attempt == attempts - 1:\n                raise\n            time.sleep(base_delay * 2 ** attempt)',
    queries: {
      question: 'How long does the retry helper wait between failed connection attempts?',
      claim: 'The retry helper doubles its delay after every failed connection attempt.',
      title: 'Retrying a call with exponential backoff',
      keywords: 'retry, exponential backoff, connection errors, delay',
      search: 'python retry function with backoff',
      msmarco: 'what does exponential backoff mean in retry',
      howto: 'how do I retry a function when the connection fails',
      error: 'ConnectionError raised after all retry attempts',
      identifier: 'retry base_delay parameter',
    },
  },
  {
    passage:
      '## Configuration\n\nThe server reads `PORT` and `LOG_LEVEL` from the environment. `LOG_LEVEL` accepts `debug`, `info`, `warn` and `error`; the default is `info`. Values in `config.yaml` override the environment.',
    queries: {
      question: 'Which log levels can the server be configured with?',
      claim: 'Settings in config.yaml take precedence over environment variables.',
      title: 'Server configuration through environment variables',
      keywords: 'server configuration, log level, environment variables, config file',
      search: 'change server log level',
      msmarco: 'default log level of server',
      howto: 'how do I set the port the server listens on',
      error: 'invalid LOG_LEVEL value verbose',
      identifier: 'LOG_LEVEL environment variable',
    },
  },
  {
    passage:
      'Photosynthesis converts light energy into chemical energy. In the light-dependent reactions, water is split and oxygen is released; the Calvin cycle then fixes carbon dioxide into sugars using ATP and NADPH.',
    queries: {
      question: 'Where does the oxygen released during photosynthesis come from?',
      claim: 'The Calvin cycle uses ATP and NADPH to turn carbon dioxide into sugar.',
      title: 'The two stages of photosynthesis',
      keywords: 'photosynthesis, light reactions, Calvin cycle, carbon fixation',
      search: 'how plants make sugar from light',
      msmarco: 'what is the calvin cycle',
      howto: 'how do plants turn carbon dioxide into sugar',
    },
  },
  {
    passage:
      'export function debounce<T extends (...args: never[]) => void>(fn: T, waitMs: number): T {\n  let timer: ReturnType<typeof setTimeout> | undefined;\n  return ((...args) => {\n    clearTimeout(timer);\n    timer = setTimeout(() => fn(...args), waitMs);\n  }) as T;\n}',
    queries: {
      question: 'What happens to earlier calls when the debounced function is called again?',
      claim: 'The debounce helper only runs the last call after the wait has passed.',
      title: 'A generic debounce helper in TypeScript',
      keywords: 'debounce, timer, TypeScript generics, rate limiting calls',
      search: 'typescript debounce function',
      msmarco: 'what does debounce do',
      howto: 'how do I stop a handler from running on every keystroke',
      error: 'debounced callback never fires',
      identifier: 'debounce waitMs',
    },
  },
  {
    passage:
      'If the migration fails with "relation already exists", the table was created outside the migration history. Mark the migration as applied with `migrate --fake 0007` and run the remaining migrations again.',
    queries: {
      question: 'What should be done when a migration fails because the table already exists?',
      claim: 'A migration can be marked as applied without running it by faking it.',
      title: 'Fixing migrations whose tables already exist',
      keywords: 'database migration, fake migration, existing table, migration history',
      search: 'migration fails table already exists',
      msmarco: 'how to fake a database migration',
      howto: 'how do I skip a migration that was already applied by hand',
      error: 'relation already exists when running migrate',
      identifier: 'migrate --fake option',
    },
  },
  {
    passage:
      'The Treaty of Westphalia (1648) ended the Thirty Years\' War. It recognised the sovereignty of the German princes and is often cited as the origin of the modern system of sovereign states.',
    queries: {
      question: 'Which war ended with the Treaty of Westphalia?',
      claim: 'The Peace of 1648 is seen as the start of the modern state system.',
      title: 'The Treaty of Westphalia and state sovereignty',
      keywords: 'Treaty of Westphalia, Thirty Years War, sovereignty, 1648',
      search: 'origin of modern sovereign states',
      msmarco: 'when was the treaty of westphalia signed',
      howto: 'how did the thirty years war end',
    },
  },
  {
    passage:
      'class LruCache<K, V> {\n  constructor(private readonly capacity: number) {}\n  private readonly entries = new Map<K, V>();\n  get(key: K): V | undefined  // moves the key to the most recent position\n  set(key: K, value: V): void // evicts the least recently used entry when full\n}',
    queries: {
      question: 'Which entry does the cache remove when it is full?',
      claim: 'Reading a key makes it the most recently used entry in the cache.',
      title: 'A least-recently-used cache backed by a Map',
      keywords: 'LRU cache, eviction, Map, capacity',
      search: 'lru cache implementation map',
      msmarco: 'what is an lru cache',
      howto: 'how do I limit the number of cached entries',
      error: 'cache keeps growing past its capacity',
      identifier: 'LruCache set method',
    },
  },
  {
    passage:
      'Run `npm ci` instead of `npm install` in CI. It installs exactly what package-lock.json records, fails if the lock file and package.json disagree, and deletes node_modules first, so builds are reproducible.',
    queries: {
      question: 'Why should continuous integration use npm ci rather than npm install?',
      claim: 'npm ci refuses to run when package.json and the lock file do not match.',
      title: 'Reproducible installs with npm ci',
      keywords: 'npm ci, lock file, reproducible builds, continuous integration',
      search: 'npm ci vs npm install',
      msmarco: 'what does npm ci do',
      howto: 'how do I make node installs reproducible in CI',
      error: 'npm ci can only install packages when your package.json and package-lock.json are in sync',
      identifier: 'npm ci command',
    },
  },
  {
    passage:
      'Iron deficiency is the most common cause of anaemia. Symptoms include fatigue, pale skin and shortness of breath. Oral iron supplements usually restore haemoglobin levels within two months.',
    queries: {
      question: 'How long do iron supplements take to restore haemoglobin levels?',
      claim: 'Lack of iron is the leading cause of anaemia.',
      title: 'Iron deficiency anaemia and its treatment',
      keywords: 'iron deficiency, anaemia symptoms, iron supplements, haemoglobin',
      search: 'tired and pale iron deficiency',
      msmarco: 'symptoms of iron deficiency anemia',
      howto: 'how is iron deficiency anaemia treated',
    },
  },
  {
    passage:
      'func (s *Server) Shutdown(ctx context.Context) error {\n\t// Stop accepting new connections, then wait for active requests until ctx is done.\n\ts.listener.Close()\n\treturn s.wg.WaitContext(ctx)\n}',
    queries: {
      question: 'Does the server finish active requests before it shuts down?',
      claim: 'Shutdown closes the listener before waiting for requests in flight.',
      title: 'Graceful server shutdown with a context deadline',
      keywords: 'graceful shutdown, context deadline, listener, active requests',
      search: 'go server graceful shutdown',
      msmarco: 'what is graceful shutdown',
      howto: 'how do I stop the server without dropping requests',
      error: 'context deadline exceeded during shutdown',
      identifier: 'Server.Shutdown ctx',
    },
  },
  {
    passage:
      'Rate limits: each API key may send 60 requests per minute. Requests over the limit get HTTP 429 with a Retry-After header giving the seconds to wait. Limits reset at the start of each minute.',
    queries: {
      question: 'How many requests per minute does one API key allow?',
      claim: 'Requests above the rate limit are rejected with status 429.',
      title: 'API rate limits and the Retry-After header',
      keywords: 'rate limit, HTTP 429, Retry-After, API key quota',
      search: 'api requests per minute limit',
      msmarco: 'what does http 429 mean',
      howto: 'how long should a client wait after being rate limited',
      error: '429 Too Many Requests',
      identifier: 'Retry-After header',
    },
  },
  {
    passage:
      'Glaciers advance when more snow accumulates in winter than melts in summer. Compressed snow turns into firn and then into glacial ice, which flows downhill under its own weight.',
    queries: {
      question: 'What makes a glacier grow rather than shrink?',
      claim: 'Glacial ice forms from snow that is compressed into firn.',
      title: 'How glaciers form and move',
      keywords: 'glacier formation, firn, snow accumulation, ice flow',
      search: 'why do glaciers move downhill',
      msmarco: 'what is firn',
      howto: 'how does snow become glacier ice',
    },
  },
];
