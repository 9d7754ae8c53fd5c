import { Writable } from 'node:stream'

import { createLogger, type Logger } from '../../src/infra/logger.js'

/** A real pino logger whose JSON lines are kept in memory, for assertions and secret scans. */
export function captureLogs(level = 'debug'): { logger: Logger; lines: string[]; records: () => Array<Record<string, unknown>> } {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(line)
      callback()
    },
  })
  const logger = createLogger({ level, destination })
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) }
}
