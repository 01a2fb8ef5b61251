from .selectors import posts_of


def posts(request):
    """The signed-in user's posts, for the navigation (one query, cached per request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    own = posts_of(user)
    return {"my_posts": own, "my_roles": {post.role for post in own}}
