// A plain tus 1.0.0 server for jemput's interop tests: the Node.js reference implementation
// (@tus/server with @tus/file-store), serving /files on 127.0.0.1.
//
// usage: node tus-server.mjs <port> <store dir>
// Prints "LISTENING <port>" on stdout once it accepts connections. Each upload is stored as
// <store dir>/<upload id> (the last segment of its URL), beside <upload id>.json.
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const [port, directory] = process.argv.slice(2);
if (!port || !directory) {
  console.error('usage: node tus-server.mjs <port> <store dir>');
  process.exit(2);
}
const server = new Server({ path: '/files', datastore: new FileStore({ directory }) });
server.listen({ host: '127.0.0.1', port: Number(port) }, () => {
  console.log(`LISTENING ${port}`);
});
