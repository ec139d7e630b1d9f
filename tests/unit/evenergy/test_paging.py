"""Link-header pagination: about:blank, missing header, relative links."""

import requests

from pipelines.evenergy.paging import next_page_url


def _response(
    link: str | None, url: str = "https://api.ev.energy/v2/evses?page_size=2"
) -> requests.Response:
    response = requests.Response()
    response.url = url
    if link is not None:
        response.headers["Link"] = link
    return response


def test_next_link_is_followed():
    link = (
        '<https://api.ev.energy/v2/evses?page_size=2&page_before=evseA>; rel="previous", '
        '<https://api.ev.energy/v2/evses?page_size=2&page_after=evseB>; rel="next"'
    )
    assert (
        next_page_url(_response(link))
        == "https://api.ev.energy/v2/evses?page_size=2&page_after=evseB"
    )


def test_about_blank_next_is_the_last_page():
    link = '<https://api.ev.energy/v2/evses?page_before=evseA>; rel="previous", <about:blank>; rel="next"'
    assert next_page_url(_response(link)) is None


def test_missing_header_is_the_last_page():
    assert next_page_url(_response(None)) is None


def test_header_without_next_is_the_last_page():
    assert next_page_url(_response('<about:blank>; rel="previous"')) is None


def test_relative_link_resolves_against_the_page_url():
    link = '<about:blank>; rel="previous", </v2/evses?page_after=evseB>; rel="next"'
    assert next_page_url(_response(link)) == "https://api.ev.energy/v2/evses?page_after=evseB"


def test_next_first_then_previous_order_does_not_matter():
    link = (
        '<about:blank>; rel="next", <https://api.ev.energy/v2/evses?page_before=x>; rel="previous"'
    )
    assert next_page_url(_response(link)) is None
