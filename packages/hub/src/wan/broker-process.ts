/**
 * The embedded aedes broker in a child process of its own (`startBroker({ childProcess: true })`):
 * started by broker.ts with fork(), it listens, says where on the IPC channel, reports its error
 * count, and closes when told to or when its parent goes (the IPC channel disconnects).
 *
 * Messages: child → parent { t: 'up', port } once listening, { t: 'errors', n } at most every
 * 100 ms while the count changes, { t: 'closed' } after close; parent → child { t: 'close' }.
 */
import { startBroker } from './broker.ts'

const send = (m: unknown) => process.send?.(m)
const port = Number(process.env.SMETSIM_BROKER_PORT ?? 0)
const host = process.env.SMETSIM_BROKER_HOST ?? '127.0.0.1'
const broker = await startBroker({ port, host })
let reported = 0
const timer = setInterval(() => {
  if (broker.errors !== reported) {
    reported = broker.errors
    send({ t: 'errors', n: reported })
  }
}, 100)
timer.unref()
let closing = false
const close = async () => {
  if (closing) return
  closing = true
  clearInterval(timer)
  await broker.close()
  send({ t: 'closed' })
  process.disconnect?.()
}
process.on('message', (m: { t?: string } | undefined) => {
  if (m?.t === 'close') void close()
})
process.on('disconnect', () => void close().finally(() => process.exit(0)))
send({ t: 'up', port: broker.port })
