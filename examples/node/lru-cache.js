// A bounded cache: it fills during the first runs, then evicts as much as it adds. Not a leak.
'use strict';

const MAX_ENTRIES = 40;
const cache = new Map();
let request = 0;

function lookupPrice(sku) {
  if (cache.has(sku)) return cache.get(sku);
  const price = { sku, tiers: new Array(1500).fill(0).map((_, i) => i * 1.5) };
  cache.set(sku, price);
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value);
  return price;
}

function quote() {
  // 8 new SKUs per call: the cache is full after 5 calls.
  for (let i = 0; i < 8; i++) lookupPrice(`sku-${request++}`);
  return cache.size;
}

module.exports = { quote };
