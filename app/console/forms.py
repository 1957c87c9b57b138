"""Console forms (Flask-WTF: every form carries a CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, Email, Length

from i18n import LANGUAGES, _l


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=512)])


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=512)]
    )
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=512)])


class LanguageForm(FlaskForm):
    locale = SelectField(
        _l("Language"),
        choices=[("", _l("As my browser says")), *LANGUAGES.items()],
        validators=[],
    )


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change state."""
