// A webhook receiver using the troubleshooting guide's verifyWebhookSignature as it is written:
// the raw body, before parsing JSON. It answers 200 for a valid signature, 401 otherwise, and
// prints one JSON line per request. Usage: node receiver.js SECRET (prints its port first).
const crypto = require('crypto');
const http = require('http');

function verifyWebhookSignature(payload, signature, secret) {
  // Use raw body (before parsing JSON)
  const computedSignature = crypto
    .createHmac('sha256', secret)
    .update(payload) // Raw string, not parsed object
    .digest('hex');

  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(computedSignature)
  );
}

const secret = process.argv[2];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const signature = req.headers['x-stateset-signature'] || '';
    let valid = false;
    try {
      valid = verifyWebhookSignature(body.toString(), signature, secret);
    } catch (err) {
      valid = false; // timingSafeEqual throws on a length mismatch
    }
    const tampered = Buffer.from(body.toString().replace('"data"', '"data" '));
    let tamperedValid = false;
    try {
      tamperedValid = verifyWebhookSignature(tampered.toString(), signature, secret);
    } catch (err) {
      tamperedValid = false;
    }
    console.log(JSON.stringify({ delivery: req.headers['x-stateset-delivery-id'], valid, tamperedValid,
                                 type: JSON.parse(body.toString()).type }));
    res.writeHead(valid ? 200 : 401);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
