import type { Socket } from 'node:net';

/**
 * Ties the two sockets of one forwarded connection together: both are kept in `open` while they
 * live, an error on either destroys both (the error is the failure the test provoked), and an
 * end on one side ends the other. Forwarding the data is the caller's.
 */
export function tieForwardedPair(client: Socket, upstream: Socket, open: Set<Socket>): void {
  for (const socket of [client, upstream]) {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
  }
  client.on('end', () => upstream.end());
  upstream.on('end', () => client.end());
}
