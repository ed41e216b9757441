// A TypeScript task: the leak is reported on this file's lines through tsx's source maps.
interface Order {
  id: number;
  lines: string[];
}

const auditLog: Order[] = [];
let nextId = 0;

export function processOrder(): number {
  const order: Order = { id: ++nextId, lines: [] };
  for (let i = 0; i < 400; i++) order.lines.push(`line ${i} of order ${order.id}`);
  auditLog.push(order);
  return order.lines.length;
}
