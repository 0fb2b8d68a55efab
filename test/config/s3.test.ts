/** S3_* settings of loadConfig (src/config.ts): defaults, path style, credentials given together, bad values. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/config-error.ts';

test('S3 defaults: AWS endpoint, us-east-1, virtual-host style, default credential chain', () => {
  assert.deepEqual(loadConfig({}).s3, {
    endpoint: undefined,
    region: 'us-east-1',
    forcePathStyle: false,
    accessKeyId: undefined,
    secretAccessKey: undefined,
  });
  assert.equal(loadConfig({ AWS_REGION: 'eu-west-1' }).s3.region, 'eu-west-1');
  assert.equal(loadConfig({ AWS_REGION: 'eu-west-1', S3_REGION: 'cn-north-4' }).s3.region, 'cn-north-4');
});

test('S3_ENDPOINT turns path style on unless S3_FORCE_PATH_STYLE says otherwise', () => {
  const env = { S3_ENDPOINT: 'http://127.0.0.1:9000' };
  assert.equal(loadConfig(env).s3.forcePathStyle, true);
  assert.equal(loadConfig({ ...env, S3_FORCE_PATH_STYLE: 'false' }).s3.forcePathStyle, false);
  assert.equal(loadConfig({ S3_FORCE_PATH_STYLE: '1' }).s3.forcePathStyle, true);
});

test('static credentials come as a pair', () => {
  assert.deepEqual(
    { ...loadConfig({ S3_ACCESS_KEY_ID: 'ak', S3_SECRET_ACCESS_KEY: 'sk' }).s3, endpoint: null },
    { endpoint: null, region: 'us-east-1', forcePathStyle: false, accessKeyId: 'ak', secretAccessKey: 'sk' },
  );
  assert.throws(
    () => loadConfig({ S3_ACCESS_KEY_ID: 'ak' }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /^S3_SECRET_ACCESS_KEY is missing: /);
      return true;
    },
  );
  assert.throws(
    () => loadConfig({ S3_SECRET_ACCESS_KEY: 'sk' }),
    /^ConfigError: S3_ACCESS_KEY_ID is missing/,
  );
});

test('bad S3 values are refused naming the variable', () => {
  assert.throws(() => loadConfig({ S3_ENDPOINT: 'minio:9000' }), /S3_ENDPOINT/);
  assert.throws(() => loadConfig({ S3_FORCE_PATH_STYLE: 'yes please' }), /S3_FORCE_PATH_STYLE/);
});
