; The serial went up, mail moved, www's TTL went down, ftp came, old went;
; the rest is only written differently.
$ORIGIN example.com.
$TTL 3600
@       IN SOA  ns1 hostmaster 2024010102 3600 900 1209600 300
        IN NS   NS1
        IN NS   ns.example.net.
        IN MX   10 mail
ns1     IN A    192.0.2.53
mail    IN A    192.0.2.26
WWW 300 IN A    192.0.2.1
www 300 IN AAAA 2001:db8::1
ftp     IN CNAME www
