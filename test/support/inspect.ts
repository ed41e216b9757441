/** One expression evaluated in a Node process over a fresh inspector connection, with the console's `require`. */
import WebSocket from 'ws';

export function evaluate(url: string, expression: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on('error', reject);
    socket.on('open', () =>
      socket.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression, includeCommandLineAPI: true, returnByValue: true } })),
    );
    socket.on('message', (data: WebSocket.RawData) => {
      const reply = JSON.parse(data.toString()) as { id?: number; result?: { result?: { value?: unknown } } };
      if (reply.id !== 1) return;
      socket.close();
      resolve(reply.result?.result?.value);
    });
  });
}
