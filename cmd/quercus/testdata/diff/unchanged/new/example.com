$ORIGIN example.com.
$TTL 3600
@       IN SOA  ns1 hostmaster 2024010101 3600 900 1209600 300
        IN NS   ns1.example.com.
        IN NS   ns.example.net.
        IN MX   10 mail
ns1     IN A    192.0.2.53
mail    IN A    192.0.2.25
WWW IN A    192.0.2.1
www     IN AAAA 2001:db8::1
old     IN TXT  "going away"
