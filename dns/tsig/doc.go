// Package tsig holds TSIG keys (RFC 8945) as the git repository stores
// them, the rights their names give, and a dns.TsigProvider for
// miekg/dns whose clock can be injected.
//
// # Storage
//
// As in robur's dns-primary-git, secrets are DNSKEY records in zone-file
// format in a file named _keys (keys for any zone) or <zone>._keys (keys
// for that zone and below):
//
//	foo._update.example.com. DNSKEY 0 3 163 <base64 secret>
//
// Flags are 0 and protocol 3. The algorithm field holds the HMAC, with
// the numbers robur's ocaml-dns uses (Dnskey.algorithm_to_int in its
// src/dns.ml, checked): 161 hmac-sha1, 162 hmac-sha224, 163 hmac-sha256,
// 164 hmac-sha384, 165 hmac-sha512. 157 (hmac-md5) is refused: RFC 8945
// §6 rules it out for new use, miekg/dns no longer computes it and
// ocaml-dns cannot sign with it either.
//
// # Rights
//
// The key name says what a key may do (see ParseName): <name>._update.<zone>
// update, transfer and notify; <ip1>.<ip2>._transfer.<zone> transfer and
// notify, ip1 being the primary's and ip2 the secondary's address;
// <name>._notify.<zone> notify only. A key is valid for its zone and every
// zone below it (Key.Allows). Addresses are IPv4 only, four labels each,
// because ocaml-dns reads no other form (Dns_server.Authentication).
//
// # Serving with miekg/dns (v1.1.73)
//
// What miekg does, and so what a wire server must do.
//
// Verification. Set dns.Server.TsigProvider to a *Provider. For every
// request whose last additional record is a TSIG, miekg's server calls
// dns.TsigVerifyWithProvider(raw, p, "", false) before the handler: it
// strips the TSIG, builds the MAC input (RFC 8945 §4.3) and calls
// p.Verify, which finds the key (else BADKEY), compares the MAC with
// hmac.Equal (else BADSIG) and then checks the time with p.Now (else
// BADTIME), in §5.2's order. Only if Verify returns nil does miekg check
// the time once more, against time.Now, giving dns.ErrTime. The result is
// w.TsigStatus(); the handler runs either way. So a fake clock produces
// BADTIME without sleeping, but a message is accepted only within the
// fudge of both p.Now and the real clock. (VerifyMsg uses p's clock alone.)
//
// The handler:
//
//	key, err := p.Check(r, w.TsigStatus()) // nil key, nil err: unsigned
//	if err != nil {
//		m := p.Refuse(r, err) // NOTAUTH, or FORMERR
//		p.Sign(m, r, err)
//		w.WriteMsg(m)
//		return
//	}
//	// ... answer; for a change require key != nil && key.Allows(tsig.Update, zone)
//	p.Sign(m, r, nil) // last, after EDNS and truncation
//	w.WriteMsg(m)
//
// Signing. miekg's w.WriteMsg signs a message whose last record is a TSIG
// (dns.TsigGenerateWithProvider, with the request's MAC that its server
// kept). It takes Time Signed from the record, so Sign puts p's time
// there, and it leaves the MAC empty when the record's error is BADKEY or
// BADSIG. The outcomes, after RFC 8945 §5.2 and §5.3:
//
//	valid signature      the answer, signed over request MAC, answer, TSIG variables
//	unknown key or alg   NOTAUTH, TSIG error BADKEY, no MAC
//	bad MAC              NOTAUTH, TSIG error BADSIG, no MAC
//	outside the fudge    NOTAUTH, TSIG error BADTIME, signed; Other Data is our
//	                     time (48 bits), Time Signed the request's (as BIND)
//	TSIG unreadable      FORMERR, no TSIG
//
// Zone transfers. Sign and write each message, and call
// w.TsigTimersOnly(true) after the first: later MACs cover the previous
// MAC, the message and the timers only (§5.3.1); miekg chains the MACs.
// miekg's Transfer.Out does the same but stamps time.Now, so write the
// loop yourself. Sign every message: miekg's Transfer.In rejects unsigned
// ones, although §5.3.1 allows up to 99.
//
// Clients. A dns.Client, dns.Conn or dns.Transfer with TsigProvider p, and
// p.SignRequest(m, keyName) before sending. miekg's client gives
// dns.ErrAuth for every NOTAUTH reply carrying a TSIG, without checking it
// (the reply is still returned); read the raw reply and use VerifyMsg to
// check a BADTIME answer and learn the server's time. miekg's TsigVerify
// functions also lower ARCOUNT in the buffer they are given; VerifyMsg
// leaves it alone.
//
// Not done: truncated MACs (§5.2.2.1; they fail as BADSIG, as in
// ocaml-dns), the per-key cache of the last Time Signed that §5.2.3
// suggests against replays within the fudge, TKEY and GSS-TSIG.
package tsig
