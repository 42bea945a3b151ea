// src/utils/kmsHelper.js
const AWS = require('aws-sdk');
const kms = new AWS.KMS({ region: 'eu-west-1' });
const ssm = new AWS.SSM({ region: 'eu-west-1' });

/**
 * Decrypt JWT secret from SSM using KMS
 */
async function getJWTSecret() {
  try {
    const paramName = process.env.JWT_SECRET_PARAM || '/can2025/prod/jwt-secret';
    
    const response = await ssm.getParameter({
      Name: paramName,
      WithDecryption: true // KMS decrypts automatically
    }).promise();
    
    return response.Parameter.Value;
  } catch (error) {
    console.error('Failed to get JWT secret:', error);
    throw error;
  }
}

/**
 * Decrypt data using KMS directly
 */
async function decryptData(encryptedData) {
  const params = {
    CiphertextBlob: Buffer.from(encryptedData, 'base64')
  };
  
  const result = await kms.decrypt(params).promise();
  return result.Plaintext.toString('utf-8');
}

/**
 * Encrypt data using KMS
 */
async function encryptData(plaintext, keyId = 'alias/can2025-jwt-secret') {
  const params = {
    KeyId: keyId,
    Plaintext: plaintext
  };
  
  const result = await kms.encrypt(params).promise();
  return result.CiphertextBlob.toString('base64');
}

module.exports = {
  getJWTSecret,
  decryptData,
  encryptData
};
