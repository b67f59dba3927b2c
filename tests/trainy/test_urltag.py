"""trainy.urltag: every template's {% url %} writes what Django's own tag writes, kept paths or
not, under any script prefix."""

from __future__ import annotations

import pytest
from django.template import Context, engines
from django.test import RequestFactory
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from trainy.urltag import KeptURLNode


@pytest.fixture(params=["/", "/trainy/"])
def script_prefix(request):
    # Trainy served under a path, as behind a proxy that passes SCRIPT_NAME.
    set_script_prefix(request.param)
    yield request.param
    clear_script_prefix()


def render(text: str, **values: object) -> str:
    template = engines["django"].from_string(text)
    return template.render(values, request=RequestFactory().get("/"))


@pytest.mark.parametrize(
    ("tag", "values", "name", "args", "kwargs"),
    [
        ("{% url 'feed:home' %}", {}, "feed:home", None, None),
        ("{% url 'feed:profile' who %}", {"who": "ann"}, "feed:profile", ["ann"], None),
        ("{% url 'feed:profile' who %}", {"who": "bob"}, "feed:profile", ["bob"], None),
        ("{% url 'checkins:detail' id %}", {"id": 7}, "checkins:detail", [7], None),
        ("{% url name id %}", {"name": "feed:like", "id": 42}, "feed:like", [42], None),
        # Written as Django writes them, escaped in the page: a username with a quote.
        ("{% url 'feed:profile' who %}", {"who": "o'neil&co"}, "feed:profile", ["o'neil&co"], None),
        ("{% url 'feed:profile' username=u %}", {"u": "ann"},
         "feed:profile", None, {"username": "ann"}),
        ("{% url 'feed:profile' u as link %}[{{ link }}]", {"u": "ann"},
         "feed:profile", ["ann"], None),
    ],
)  # fmt: skip
def test_the_tag_writes_djangos_paths(script_prefix, tag, values, name, args, kwargs):
    from django.utils.html import conditional_escape

    expected = conditional_escape(reverse(name, args=args, kwargs=kwargs))
    assert expected.startswith(script_prefix)
    if " as link" in tag:
        expected = f"[{expected}]"
    assert render(tag, **values) == expected
    assert render(tag, **values) == expected  # and once more, kept


def test_it_is_the_tag_of_every_template():
    template = engines["django"].from_string("{% url 'feed:home' %}")
    assert isinstance(template.template.nodelist[0], KeptURLNode)


def test_a_name_that_does_not_reverse_fails_as_djangos_does():
    with pytest.raises(NoReverseMatch):
        render("{% url 'feed:nothing' %}")
    assert render("{% url 'feed:nothing' as link %}[{{ link }}]") == "[]"
    context_free = engines["django"].from_string("{% url 'feed:home' %}")
    assert context_free.template.render(Context({})) == reverse("feed:home")
