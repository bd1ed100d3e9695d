from django import template

from governance.models import Notice

register = template.Library()


@register.simple_tag
def unread_notice_count(user):
    """For the nav badge: one indexed COUNT (notice_user_unread)."""
    if not user.is_authenticated:
        return 0
    return Notice.objects.filter(user=user, read_at__isnull=True).count()
