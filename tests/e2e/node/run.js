// Runs the seed guide's kmsHelper.js against m2sec. aws-sdk v2 does not read AWS_ENDPOINT_URL, so the
// endpoint is set on the global config before the helper creates its clients; nothing else changes.
// Usage: node run.js [plaintext]   (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
const AWS = require('aws-sdk');

if (!process.env.AWS_ENDPOINT_URL) {
  console.error('AWS_ENDPOINT_URL is not set');
  process.exit(2);
}
AWS.config.update({ endpoint: process.env.AWS_ENDPOINT_URL });

const { getJWTSecret, encryptData, decryptData } = require('./src/utils/kmsHelper');

async function main() {
  const plaintext = process.argv[2] || 'can2025-secret-key-production';
  const secret = await getJWTSecret();
  const ciphertext = await encryptData(plaintext);
  const decrypted = await decryptData(ciphertext);
  console.log(JSON.stringify({ secret, ciphertext, decrypted }));
}

main().catch((error) => {
  console.error(JSON.stringify({ code: error.code, message: error.message, statusCode: error.statusCode }));
  process.exit(1);
});
