// LanceDB's native core logs warnings (e.g. "No existing dataset … it will be created") straight to
// stderr, which would garble CLI progress output. It reads LANCEDB_LOG when it loads, so this module
// must be imported before '@lancedb/lancedb'. A user-set level wins.
process.env.LANCEDB_LOG ??= 'error';
export {};
