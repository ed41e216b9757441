import assert from 'node:assert/strict';
import { FrameDecoder, encodeFrame } from '../../src/cdp/agentTransport';

describe('agent channel framing', () => {
  it('decodes frames split anywhere and several in one chunk', () => {
    const texts = ['{"id":1,"result":{}}', '', 'é'.repeat(70_000), '{"method":"Taskmem.gc"}'];
    const bytes = Buffer.concat(texts.map(encodeFrame));
    for (const step of [1, 3, 4, 5, 1000, bytes.length]) {
      const decoder = new FrameDecoder();
      const got: string[] = [];
      for (let i = 0; i < bytes.length; i += step) got.push(...decoder.push(bytes.subarray(i, i + step)));
      assert.deepEqual(got, texts, `chunks of ${step}`);
    }
  });

  it('writes a 4-byte big-endian byte count (not a character count)', () => {
    const frame = encodeFrame('é');
    assert.equal(frame.readUInt32BE(0), 2);
    assert.deepEqual([...frame.subarray(4)], [0xc3, 0xa9]);
  });

  it('refuses a frame over the limit from its header alone', () => {
    const decoder = new FrameDecoder(10);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(11);
    assert.throws(() => decoder.push(head), /11 bytes is over the 10-byte limit/);
    assert.deepEqual(new FrameDecoder(10).push(encodeFrame('0123456789')), ['0123456789']);
  });
});
