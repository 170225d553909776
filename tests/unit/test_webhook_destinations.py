"""Which webhook URLs may be contacted: public addresses only, unless allowed."""

from service.infra.destinations import destination_refusal


def _resolving_to(*addresses):
    return lambda host, port: list(addresses)


def test_public_addresses_may_be_contacted():
    assert destination_refusal("https://hooks.example.org/x", allow_private=False,
                               resolve=_resolving_to("93.184.215.14")) is None
    assert destination_refusal("https://8.8.8.8/x", allow_private=False) is None


def test_loopback_private_link_local_and_mapped_addresses_are_refused():
    for url in ("http://127.0.0.1/", "http://10.1.2.3/", "http://192.168.0.1/", "http://172.16.5.5/",
                "http://169.254.169.254/", "http://[::1]/", "http://[fd00::1]/", "http://[::ffff:127.0.0.1]/",
                "http://0.0.0.0/"):
        assert destination_refusal(url, allow_private=False) is not None, url


def test_a_name_is_refused_when_any_of_its_addresses_is_private():
    refusal = destination_refusal("http://mixed.example.org/", allow_private=False,
                                  resolve=_resolving_to("93.184.215.14", "10.0.0.2"))
    assert refusal == "mixed.example.org is not a public address (10.0.0.2)"


def test_unresolvable_names_are_refused_and_allow_private_skips_every_check():
    def failing(host, port):
        raise OSError("no such host")

    assert "cannot resolve" in destination_refusal("http://nowhere.invalid/", allow_private=False, resolve=failing)
    assert destination_refusal("http://127.0.0.1/", allow_private=True) is None


def test_ipv6_forms_of_an_ipv4_address_are_judged_by_that_address():
    refused = (
        "http://[64:ff9b::7f00:1]/",            # NAT64 (well-known prefix) of 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/",         # NAT64 of the cloud metadata address
        "http://[64:ff9b:1::a00:1]/",           # local-use NAT64 (/96) of 10.0.0.1
        "http://[64:ff9b:1:7f00:1::808:808]/",  # local-use NAT64, other prefix lengths: ambiguous
        "http://[::127.0.0.1]/",                # IPv4-compatible
        "http://[::ffff:0:7f00:1]/",            # IPv4-translated (SIIT)
        "http://[::ffff:10.0.0.1]/",            # IPv4-mapped
        "http://[2002:7f00:1::1]/",             # 6to4 of 127.0.0.1
        "http://[2002:c0a8:101::]/",            # 6to4 of 192.168.1.1
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
        "http://[2001:0:a00:1:8000:63bf:f7f7:f7f7]/",      # Teredo, server 10.0.0.1
        "http://[2001:db8:1::5efe:a00:1]/",     # ISATAP of 10.0.0.1 (in a documentation prefix, too)
        "http://[2606:4700::5efe:c0a8:1]/",     # ISATAP of 192.168.0.1 under a public prefix
        "http://[::]/", "http://[ff02::1]/", "http://224.0.0.1/", "http://100.64.0.1/", "http://[fec0::1]/",
    )
    for url in refused:
        assert destination_refusal(url, allow_private=False) is not None, url
    assert "127.0.0.1" in destination_refusal("http://[64:ff9b::7f00:1]/", allow_private=False)
    public = (
        "http://[64:ff9b::808:808]/",           # NAT64 of 8.8.8.8
        "http://[64:ff9b:1::808:808]/",         # local-use NAT64 (/96) of 8.8.8.8
        "http://[::ffff:8.8.8.8]/",             # IPv4-mapped public address
        "http://[2002:808:808::1]/",            # 6to4 of 8.8.8.8
        "http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/",  # Teredo: server 65.54.227.120, client 8.8.8.8
        "http://[2606:4700:4700::1111]/",       # a plain public IPv6 address
    )
    for url in public:
        assert destination_refusal(url, allow_private=False) is None, url


def test_names_are_judged_by_every_address_including_translated_ones():
    refusal = destination_refusal("https://hooks.example.org/x", allow_private=False,
                                  resolve=_resolving_to("2606:4700:4700::1111", "64:ff9b::a00:5"))
    assert refusal == "hooks.example.org is not a public address (64:ff9b::a00:5 = 10.0.0.5)"


def test_a_destination_is_resolved_once_and_keeps_the_checked_addresses():
    from service.infra.destinations import resolve_destination

    calls = []

    def resolve(host, port):
        calls.append((host, port))
        return ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "93.184.215.14"]

    destination = resolve_destination("https://Hooks.Example.org:8443/in?x=1", allow_private=False, resolve=resolve)
    assert calls == [("hooks.example.org", 8443)]
    assert destination.addresses == ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert destination.server_name == "hooks.example.org"
    assert destination_refusal("ftp://hooks.example.org/", allow_private=False) is not None
