// Counts what a process sends to Redis, whatever client library it uses: socket writes to the
// Redis port (round trips, as the client batches them) and RESP commands in those writes, by
// name. It parses every byte sent, so it is only loaded for the separate "wire" runs, never
// in a run whose speed or CPU is measured.
import net from 'node:net';

export function installWireCounter(port) {
  const totals = { writes: 0, commands: 0, byName: {} };
  const states = new WeakMap();
  const original = net.Socket.prototype.write;
  net.Socket.prototype.write = function (chunk, encoding, cb) {
    if (this.remotePort === port && chunk != null) {
      let st = states.get(this);
      if (!st) states.set(this, (st = { line: '', skip: 0, wantName: false, name: null, nameLen: 0 }));
      totals.writes++;
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8');
      feed(st, buf, totals);
    }
    return original.call(this, chunk, encoding, cb);
  };
  return totals;
}

function feed(st, buf, totals) {
  let i = 0;
  while (i < buf.length) {
    if (st.skip > 0) {
      const k = Math.min(st.skip, buf.length - i);
      if (st.name !== null) st.name += buf.toString('latin1', i, i + Math.min(k, Math.max(0, st.nameLen - st.name.length)));
      st.skip -= k;
      i += k;
      if (st.skip === 0 && st.name !== null) {
        const name = st.name.toLowerCase();
        totals.byName[name] = (totals.byName[name] ?? 0) + 1;
        st.name = null;
      }
      continue;
    }
    const nl = buf.indexOf(10, i);
    if (nl < 0) {
      st.line += buf.toString('latin1', i);
      return;
    }
    const line = st.line + buf.toString('latin1', i, nl);
    st.line = '';
    i = nl + 1;
    const n = parseInt(line.slice(1), 10);
    if (line[0] === '*') {
      totals.commands++;
      st.wantName = true;
    } else if (line[0] === '$') {
      st.skip = n + 2;
      if (st.wantName) {
        st.name = '';
        st.nameLen = n;
        st.wantName = false;
      }
    }
  }
}
