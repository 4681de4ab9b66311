"""JSON-RPC 2.0 over stdio between Specialize's TypeScript client and the trainer process.

- :mod:`~specialize_trainer.rpc.framing`: LSP-style ``Content-Length`` framing on binary streams.
- :mod:`~specialize_trainer.rpc.protocol`: method names, parameter and result types, error codes
  (mirrored by ``src/core/trainer/protocol.ts``).
- :mod:`~specialize_trainer.rpc.server`: the dispatcher; run it with ``python -m specialize_trainer.rpc.server``.
"""
