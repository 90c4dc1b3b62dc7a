; The demo zone. Edit it in a clone, bump the serial, push, and ask
; dns-primary to fetch (quercus notify, --poll, or a restart).
$ORIGIN example.com.
$TTL 3600
@       IN SOA  ns1.example.com. hostmaster.example.com. (
                2026112201 ; serial
                3600       ; refresh
                900        ; retry
                1209600    ; expire
                300 )      ; minimum
        IN NS   ns1.example.com.
        IN NS   ns2.example.org.
        IN MX   10 mail.example.com.
        IN A    192.0.2.1
        IN AAAA 2001:db8::1
        IN TXT  "v=spf1 mx -all"
ns1     IN A    192.0.2.53
mail    IN A    192.0.2.25
www     IN CNAME example.com.
*.apps  IN A    192.0.2.80
_caldav._tcp IN SRV 0 1 443 calendar.example.com.
calendar IN A   192.0.2.8
; A delegation, with glue.
lab     IN NS   ns.lab.example.com.
ns.lab  IN A    192.0.2.100
