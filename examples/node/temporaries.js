// Allocates plenty per call and keeps nothing: the retained heap stays flat.
'use strict';

function parseBatch() {
  const rows = [];
  for (let i = 0; i < 5000; i++) rows.push({ id: i, name: `row-${i}`, tags: ['a', 'b'] });
  return JSON.stringify(rows).length;
}

module.exports = { parseBatch };
