"""Which webhook URLs may be contacted: public addresses only, unless allowed."""

from service.webhooks import destination_refusal


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
