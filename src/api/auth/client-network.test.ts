import { describe, expect, it } from 'vitest';
import { clientNetwork } from './client-network.js';

describe('the network a client address is throttled as', () => {
  it('is an IPv4 address itself', () => {
    expect(clientNetwork('203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetwork('203.0.113.8')).toBe('203.0.113.8');
  });

  it('is the IPv4 address behind an IPv4-mapped IPv6 address', () => {
    expect(clientNetwork('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetwork('::FFFF:127.0.0.1')).toBe('127.0.0.1');
  });

  it('is the /64 of an IPv6 address, however it is written', () => {
    const network = '2001:db8:1:2::/64';
    for (const address of ['2001:db8:1:2::1', '2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:DB8:1:2:0:0:0:9', '[2001:db8:1:2::7]', '2001:db8:1:2::5%eth0', '2001:db8:1:2::192.0.2.1']) {
      expect(clientNetwork(address), address).toBe(network);
    }
  });

  it('tells neighbouring /64s apart', () => {
    expect(clientNetwork('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
    expect(clientNetwork('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(clientNetwork('::2001:db8:1:2:3')).toBe('0:0:0:2001::/64');
  });

  it('keeps anything else as it came, so it is still counted', () => {
    expect(clientNetwork('')).toBe('unknown');
    expect(clientNetwork('not-an-address')).toBe('not-an-address');
  });
});
