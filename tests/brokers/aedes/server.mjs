// aedes (https://github.com/moscajs/aedes), a broker parktwin did not write, for the collectors'
// end-to-end tests: MQTT v5 on 127.0.0.1:PORT, sessions and their queues kept in memory while
// the process lives. It offers no shared subscriptions (its CONNACK says so).
//     node server.mjs PORT
import net from 'node:net'
import { Aedes } from 'aedes'

const port = Number(process.argv[2])
const broker = await Aedes.createBroker()
broker.on('clientError', (client, err) => console.log('client error', client.id, err.message))
const server = net.createServer(broker.handle)
server.listen(port, '127.0.0.1', () => console.log('aedes listening on', port))
