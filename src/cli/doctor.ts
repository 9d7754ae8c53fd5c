import { runDoctor } from '../doctor/doctor.js'
import { exitCodeOf, formatJson, formatReport, maskSecrets, secretsOf } from '../doctor/printer.js'

/*
 * npm run doctor [-- --json] [-- --public] [-- --timeout <seconds>]: the go-live checks against the
 * production environment (contract, "Commands"). Exit 0 when nothing failed, 1 otherwise, 2 for a
 * usage error. Runs from src/ with tsx or from dist/ in the production image.
 */

const USAGE = 'usage: npm run doctor -- [--json] [--public] [--timeout <seconds per check, default 5>]'

interface Arguments {
  json: boolean
  public: boolean
  checkTimeoutMs: number
}

function parseArguments(argv: string[]): Arguments | string {
  const parsed: Arguments = { json: false, public: false, checkTimeoutMs: 5000 }
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]
    if (arg === '--json') parsed.json = true
    else if (arg === '--public') parsed.public = true
    else if (arg === '--timeout') {
      const seconds = Number(argv[(index += 1)])
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 60) return '--timeout needs a number of seconds between 0 and 60'
      parsed.checkTimeoutMs = Math.round(seconds * 1000)
    } else if (arg === '--help' || arg === '-h') return USAGE
    else return `unknown argument ${arg}`
  }
  return parsed
}

async function main(): Promise<number> {
  const args = parseArguments(process.argv.slice(2))
  if (typeof args === 'string') {
    process.stderr.write(`${args}\n${args === USAGE ? '' : `${USAGE}\n`}`)
    return args === USAGE ? 0 : 2
  }
  const results = maskSecrets(await runDoctor(process.env, args), secretsOf(process.env))
  process.stdout.write(args.json ? formatJson(results) : formatReport(results))
  return exitCodeOf(results)
}

// Exit explicitly: a check cut off by its time limit may leave a socket open, and the report is done.
main().then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`doctor: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  },
)
