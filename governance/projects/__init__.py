"""民生项目清单 / 问题清单: the livelihood project list (未呼先应), its monthly updates and public progress pages."""
