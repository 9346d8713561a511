// The address and URL rules of notification sinks: public addresses pass, every internal range is refused, loopback only when allowed.
import { describe, expect, it } from 'vitest';
import { addressRefusal, urlRefusal } from './url-safety.js';

const cloud = { allowLoopback: false };
const local = { allowLoopback: true };

describe('notification URL rules', () => {
  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '172.32.0.1',
    '100.128.0.1',
  ])('lets the public address %s through', (address) => expect(addressRefusal(address, cloud)).toBeNull());

  it.each([
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    'fc00::1',
    'fd12::1',
    'fe80::1',
    '::',
    '::ffff:192.168.1.1',
    '::ffff:169.254.169.254',
    '64:ff9b::a00:1',
  ])('refuses the internal address %s, even where loopback is allowed', (address) => {
    expect(addressRefusal(address, cloud)).toMatch(/private, link-local or reserved/);
    expect(addressRefusal(address, local)).toMatch(/private, link-local or reserved/);
  });

  it.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])(
    'refuses loopback %s unless allowed',
    (address) => {
      expect(addressRefusal(address, cloud)).toMatch(/loopback/);
      expect(addressRefusal(address, local)).toBeNull();
    },
  );

  it('takes https URLs to public names, and says why it refuses others', () => {
    expect(urlRefusal('https://hooks.slack.com/services/T/B/x', cloud)).toBeNull();
    expect(urlRefusal('https://discord.com/api/webhooks/1/x', cloud)).toBeNull();
    expect(urlRefusal('https://8.8.8.8:8443/x', cloud)).toBeNull();
    expect(urlRefusal('http://hooks.slack.com/x', cloud)).toMatch(/https/);
    expect(urlRefusal('http://127.0.0.1:9000/x', cloud)).toMatch(/https/);
    expect(urlRefusal('http://127.0.0.1:9000/x', local)).toBeNull();
    expect(urlRefusal('http://localhost:9000/x', local)).toBeNull();
    expect(urlRefusal('https://intranet/x', cloud)).toMatch(/no dot/);
    expect(urlRefusal('https://app.localhost/x', cloud)).toMatch(/internal/);
    expect(urlRefusal('https://metadata.google.internal/computeMetadata/v1/', local)).toMatch(/internal/);
    expect(urlRefusal('not a url', cloud)).toMatch(/absolute URL/);
    // Other spellings of internal hosts: the URL parser's normal form is what is checked.
    expect(urlRefusal('https://0x7f.1/x', cloud)).toMatch(/loopback/);
    expect(urlRefusal('https://2852039166/x', cloud)).toMatch(/link-local/);
    expect(urlRefusal('https://localhost./x', cloud)).toMatch(/loopback/);
    expect(urlRefusal('https://metadata.google.internal./x', cloud)).toMatch(/internal/);
  });
});
