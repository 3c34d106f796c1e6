import { connect } from 'node:net';

/**
 * Plays a slow client (slowloris): opens a raw socket, sends a POST's headers announcing a body and only half of it
 * (`stopIn: 'headers'`: a GET's first header lines, never their end), then waits. Resolves with the status line's
 * code the server answered before closing (null: closed without one).
 */
export function sendPartialRequest(
  baseUrl: string,
  options: { path: string; stopIn?: 'body' | 'headers'; headers?: Record<string, string> },
): Promise<{ status: number | null }> {
  const url = new URL(options.path, baseUrl);
  const head = [`Host: ${url.host}`, ...Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}`)];
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
      resolve({ status: match ? Number(match[1]) : null });
    });
    socket.on('connect', () => {
      socket.write(
        options.stopIn === 'headers'
          ? `GET ${url.pathname} HTTP/1.1\r\n${head.join('\r\n')}\r\n`
          : `POST ${url.pathname} HTTP/1.1\r\n${[...head, 'Content-Type: application/json', 'Content-Length: 100'].join('\r\n')}\r\n\r\n{"half":`,
      );
    });
  });
}
