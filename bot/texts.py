"""Every user-visible sentence, in Chinese and English, in one place."""

from __future__ import annotations

from inference.types import Language

TEXTS: dict[str, dict[Language, str]] = {
    # --- commands -------------------------------------------------------------------------
    "welcome": {
        "en": (
            "Hi! Send me a photo of a person — an old family picture, a friend, a painting — "
            "and I will let them speak. They will say something first, show themselves talking, "
            "and you can keep chatting.\n\nThe characters are AI role-play: made up from the "
            "picture, not the real people. /help lists the commands."
        ),
        "zh": (
            "你好！发给我一张有人物的照片——老照片、朋友、一幅画都可以——我会让照片里的人开口说话。"
            "TA 会先开口，给你看 TA 说话的样子，然后你们可以一直聊下去。\n\n"
            "这些角色是 AI 角色扮演：根据照片想象出来的，并不是真实的人。/help 查看所有命令。"
        ),
    },
    "help": {
        "en": (
            "Send a photo to meet the person in it, then just write to them.\n\n"
            "/characters – your recent characters, to switch between them\n"
            "/new – start with a new photo\n"
            "/reset – clear the current conversation (the character stays)\n"
            "/image – draw the character saying their last line again\n"
            "/video on|off – the character also speaks in a short video\n"
            "/share – a link that opens this character for someone else\n"
            "/lang – 中文 / English\n"
            "/voice on|off – voice messages on or off\n"
            "/forget – delete everything stored about you\n\n"
            "In a group: send a photo with /talk in the caption (or reply /talk to a photo); "
            "reply to the character's messages to talk to it."
        ),
        "zh": (
            "发一张照片，认识照片里的人，然后直接给 TA 写消息。\n\n"
            "/characters – 最近的角色，可以切换\n"
            "/new – 换一张新照片\n"
            "/reset – 清空当前对话（角色保留）\n"
            "/image – 重新画出角色说最后一句话的样子\n"
            "/video on|off – 角色还会用短视频说话\n"
            "/share – 生成链接，让别人也能和这个角色聊天\n"
            "/lang – 中文 / English\n"
            "/voice on|off – 开启或关闭语音消息\n"
            "/forget – 删除关于你的所有数据\n\n"
            "在群里：发照片时在说明里写 /talk（或用 /talk 回复一张照片）；"
            "回复角色的消息就能和 TA 说话。"
        ),
    },
    "help_group": {
        "en": (
            "Send a photo with /talk in its caption (or reply /talk to a photo): the person in "
            "it joins the group. Reply to their messages to talk to them.\n\n"
            "/characters – this group's recent characters\n"
            "/reset – clear a character's conversation (its maker or an admin)\n"
            "/image – draw the character saying their last line again\n"
            "/share – a link that opens this character elsewhere\n"
            "/voice on|off – voice messages in this group (admins)\n"
            "/video on|off – talking videos in this group (admins)\n"
            "/lang – 中文 / English\n"
            "/forget – delete your messages in this group"
        ),
        "zh": (
            "发照片时在说明里写 /talk（或用 /talk 回复一张照片），照片里的人就会加入群聊。"
            "回复 TA 的消息就能和 TA 说话。\n\n"
            "/characters – 这个群最近的角色\n"
            "/reset – 清空角色的对话（创建者或管理员）\n"
            "/image – 重新画出角色说最后一句话的样子\n"
            "/share – 生成链接，在别处也能和这个角色聊天\n"
            "/voice on|off – 这个群的语音消息（管理员）\n"
            "/video on|off – 这个群的说话视频（管理员）\n"
            "/lang – 中文 / English\n"
            "/forget – 删除你在这个群里的消息"
        ),
    },
    "cmd_start": {"en": "Start and see what I can do", "zh": "开始，看看我能做什么"},
    "cmd_help": {"en": "How to use the bot", "zh": "使用说明"},
    "cmd_characters": {"en": "Your recent characters", "zh": "最近的角色"},
    "cmd_new": {"en": "Start with a new photo", "zh": "换一张新照片"},
    "cmd_reset": {"en": "Clear the current conversation", "zh": "清空当前对话"},
    "cmd_image": {"en": "Draw the character speaking again", "zh": "重新画出角色说话的样子"},
    "cmd_share": {"en": "Share this character by link", "zh": "用链接分享这个角色"},
    "cmd_talk": {"en": "Let the person in a photo talk", "zh": "让照片里的人开口"},
    "cmd_characters_group": {"en": "This group's recent characters", "zh": "这个群最近的角色"},
    "cmd_forget_group": {
        "en": "Delete your messages in this group",
        "zh": "删除你在这个群里的消息",
    },
    "cmd_lang": {"en": "中文 / English", "zh": "中文 / English"},
    "cmd_forget": {"en": "Delete everything stored about you", "zh": "删除关于你的所有数据"},
    "cmd_voice": {"en": "Voice messages on or off", "zh": "开启或关闭语音消息"},
    "lang_set": {"en": "I will speak English with you.", "zh": "好的，我会和你说中文。"},
    "new_photo": {
        "en": "Send me a new photo of a person and they will start talking.",
        "zh": "发给我一张新的人物照片，TA 就会开口说话。",
    },
    "no_character": {
        "en": "Send me a photo of a person first, and they will talk to you.",
        "zh": "先发给我一张人物照片，TA 就会和你说话。",
    },
    "characters_title": {"en": "Your recent characters:", "zh": "你最近的角色："},
    "characters_empty": {
        "en": "No characters yet — send me a photo.",
        "zh": "还没有角色——发一张照片给我吧。",
    },
    "switched": {"en": "Now talking with {name}.", "zh": "现在和 {name} 聊天。"},
    "character_gone": {
        "en": "That character no longer exists.",
        "zh": "这个角色已经不存在了。",
    },
    "reset_done": {
        "en": "The conversation with {name} is cleared. Say something to start again.",
        "zh": "和 {name} 的对话已清空。说点什么重新开始吧。",
    },
    "reset_not_allowed": {
        "en": "Only the person who made this character or a group admin can clear it.",
        "zh": "只有创建这个角色的人或群管理员可以清空对话。",
    },
    "forget_confirm": {
        "en": (
            "Delete everything about you? This deletes your characters and your messages "
            "everywhere, and every character made from a photo you sent (in groups too, and "
            "the copies others opened from your /share links), together with everyone's "
            "conversations with them. A character you started in a group from someone else's "
            "photo stays there. This cannot be undone."
        ),
        "zh": (
            "删除关于你的所有数据？这会删除你的角色和你在各处的消息，以及用你发的照片做成的每个"
            "角色（包括群里的，以及别人从你的 /share 链接打开的副本），连同所有人和它们的对话。"
            "你在群里用别人的照片创建的角色会留在群里。删除后无法恢复。"
        ),
    },
    "forget_group_confirm": {
        "en": "Delete your own messages to the characters in this group?",
        "zh": "删除你在这个群里和角色的所有消息？",
    },
    "forget_yes": {"en": "Yes, delete", "zh": "确定删除"},
    "forget_no": {"en": "Cancel", "zh": "取消"},
    "forget_done": {
        "en": "Done — everything about you is deleted.",
        "zh": "完成——你的所有数据已删除。",
    },
    "forget_group_done": {
        "en": "Done — your messages to the characters in this group are deleted.",
        "zh": "完成——你在这个群里和角色的消息已删除。",
    },
    "forget_cancelled": {"en": "Nothing was deleted.", "zh": "没有删除任何东西。"},
    "share_link": {
        "en": (
            "Anyone who opens this link meets {name} (their own fresh conversation):\n{link}\n\n"
            "Add {name} to a group:\n{group_link}\n\n/share off revokes the links."
        ),
        "zh": (
            "打开这个链接的人都能认识 {name}（各自开始新的对话）：\n{link}\n\n"
            "把 {name} 加到群里：\n{group_link}\n\n发送 /share off 可以让链接失效。"
        ),
    },
    "share_off": {
        "en": "The share links of {name} no longer work.",
        "zh": "{name} 的分享链接已失效。",
    },
    "share_not_owner": {
        "en": "Only the person who made this character can share it.",
        "zh": "只有创建这个角色的人可以分享它。",
    },
    "share_invalid": {
        "en": "This link no longer works. Send me a photo to make your own character.",
        "zh": "这个链接已经失效了。发一张照片来创建你自己的角色吧。",
    },
    "share_opened": {"en": "You are now talking with {name}.", "zh": "你现在在和 {name} 聊天。"},
    "group_welcome": {
        "en": (
            "Hi everyone! Send a photo with /talk in the caption (or reply /talk to a photo) "
            "and the person in it will join the chat. Reply to their messages to talk to them."
        ),
        "zh": (
            "大家好！发照片时在说明里写 /talk（或用 /talk 回复一张照片），照片里的人就会加入聊天。"
            "回复 TA 的消息就能和 TA 说话。"
        ),
    },
    "talk_private": {
        "en": "Here, just send me a photo — /talk is for groups. Then write to the person in it.",
        "zh": "在这里直接发照片就好——/talk 是群里用的。然后给照片里的人写消息吧。",
    },
    "talk_needs_photo": {
        "en": "Reply /talk to a photo, or send a photo with /talk in its caption.",
        "zh": "请用 /talk 回复一张照片，或者发照片时在说明里写 /talk。",
    },
    # --- progress -------------------------------------------------------------------------
    "status_looking": {"en": "👀 Looking at the photo…", "zh": "👀 正在看照片…"},
    "status_thinking": {"en": "💭 Getting to know them…", "zh": "💭 正在了解 TA…"},
    "status_drawing": {"en": "🎨 Drawing them talking…", "zh": "🎨 正在画 TA 说话的样子…"},
    "status_done": {"en": "✅ Meet {name}.", "zh": "✅ 认识一下 {name}。"},
    "send_again": {
        "en": "Sorry, I restarted before I could answer this. Please send it again.",
        "zh": "抱歉，我在回复这条消息之前重启了。请再发一次。",
    },
    "status_stopped": {
        "en": "⏹ Stopped: the conversation was cleared.",
        "zh": "⏹ 已停止：对话已清除。",
    },
    # --- bad input, limits, faults ---------------------------------------------------------
    "not_an_image": {
        "en": "I couldn't read that as a picture. Please send a normal photo (JPEG or PNG).",
        "zh": "我读不懂这张图片。请发一张普通的照片（JPEG 或 PNG）。",
    },
    "image_too_large": {
        "en": "That picture is too large for me. Please send a smaller photo.",
        "zh": "这张图片太大了。请发一张小一点的照片。",
    },
    "file_too_big": {
        "en": (
            "That file is over 20 MB, more than Telegram lets me download. "
            "Please send it as a photo."
        ),
        "zh": "文件超过 20 MB，Telegram 不允许我下载。请以照片形式发送。",
    },
    "animated": {
        "en": "Animated pictures and videos can't talk yet — please send a still photo.",
        "zh": "动图和视频还不能开口说话——请发一张静态照片。",
    },
    "unsupported_media": {
        "en": (
            "I can only bring photos to life. "
            "Send me a photo of a person, or write to your character."
        ),
        "zh": "我只能让照片开口说话。发一张人物照片，或者给你的角色写消息吧。",
    },
    "sticker": {
        "en": "Cute sticker! I can only talk with photos, though — send me one.",
        "zh": "贴纸很可爱！不过我只能让照片说话——发一张照片给我吧。",
    },
    "voice": {
        "en": "I can't listen to voice messages here — please write instead.",
        "zh": "我在这里听不了语音消息——请打字告诉我吧。",
    },
    "voice_on": {
        "en": "🔊 Voice on: characters in this chat will also speak their lines.",
        "zh": "🔊 语音已开启：这个聊天里的角色也会把话说出来。",
    },
    "voice_off": {
        "en": "🔇 Voice off: characters in this chat will only write.",
        "zh": "🔇 语音已关闭：这个聊天里的角色只会打字。",
    },
    "voice_usage": {
        "en": "Voice is {state} in this chat. Use /voice on or /voice off.",
        "zh": "这个聊天的语音目前{state}。用 /voice on 或 /voice off 切换。",
    },
    "voice_state_on": {"en": "on", "zh": "已开启"},
    "voice_state_off": {"en": "off", "zh": "已关闭"},
    "voice_admins_only": {
        "en": "Only the group's admins can turn voice on or off here.",
        "zh": "只有群管理员才能在这里开启或关闭语音。",
    },
    "voice_unavailable": {
        "en": "Voice messages are switched off on this bot — characters only write.",
        "zh": "这个机器人没有开启语音功能——角色只会打字。",
    },
    "voice_too_long": {
        "en": "That recording is longer than {seconds} seconds — please send a shorter one.",
        "zh": "这段录音超过了 {seconds} 秒——请发一段短一点的。",
    },
    "voice_too_big": {
        "en": "That file is too big for me to download — please send a shorter recording.",
        "zh": "这个文件太大了，我下载不了——请发一段短一点的录音。",
    },
    "voice_unreadable": {
        "en": "I couldn't play that recording. Please record a voice message and try again.",
        "zh": "这段录音我打不开。请录一条语音消息再试一次。",
    },
    "voice_unheard": {
        "en": "I couldn't hear that — try again?",
        "zh": "我没听清——再说一次好吗？",
    },
    "voice_download_failed": {
        "en": "I couldn't download that recording from Telegram. Please send it again.",
        "zh": "我没能从 Telegram 下载这段录音。请再发一次。",
    },
    "empty_text": {
        "en": "That message looks empty — write something to your character.",
        "zh": "这条消息好像是空的——给你的角色写点什么吧。",
    },
    "download_failed": {
        "en": "I couldn't download that photo from Telegram. Please send it again.",
        "zh": "我没能从 Telegram 下载这张照片。请再发一次。",
    },
    "restarting": {
        "en": "I'm restarting and could not finish this — please send it again in a minute.",
        "zh": "我正在重启，这条没能处理完——请过一分钟再发一次。",
    },
    "busy": {
        "en": "I'm very busy right now — please try again in a minute.",
        "zh": "我现在太忙了——请一分钟后再试。",
    },
    "photo_limit": {
        "en": "You've sent a lot of photos this hour. Please try again later.",
        "zh": "你这一小时发的照片太多了。请稍后再试。",
    },
    "engine_down": {
        "en": (
            "I can't think of words right now: the language model is not answering. "
            "Please try again in a few minutes (/image still works)."
        ),
        "zh": "我现在想不出话来：语言模型没有响应。请过几分钟再试（/image 仍然可以用）。",
    },
    "try_again": {
        "en": "Something went wrong on my side. Please try again.",
        "zh": "我这边出了点问题。请再试一次。",
    },
    "picture_withheld": {
        "en": "I couldn't draw a suitable picture this time, but you can keep talking.",
        "zh": "这次没能画出合适的图片，不过你们可以继续聊。",
    },
    "picture_not_sent": {
        "en": "Telegram would not take the picture of them talking — but you can keep talking.",
        "zh": "Telegram 没有接收 TA 说话的图片——不过你们可以继续聊。",
    },
    "not_allowed": {
        "en": "Sorry, this bot is private.",
        "zh": "抱歉，这是一个私人机器人。",
    },
    # --- talking video (/video) --------------------------------------------------------------
    "cmd_video": {"en": "Talking video on or off", "zh": "开关说话视频"},
    "video_is_on": {
        "en": "Talking videos are on in this chat. /video off turns them off.",
        "zh": "本聊天已开启说话视频。发送 /video off 关闭。",
    },
    "video_is_off": {
        "en": "Talking videos are off in this chat. /video on turns them on.",
        "zh": "本聊天未开启说话视频。发送 /video on 开启。",
    },
    "video_turned_on": {
        "en": "Talking videos on: the character will also appear speaking.",
        "zh": "已开启说话视频：角色还会以视频的样子说话。",
    },
    "video_turned_off": {
        "en": "Talking videos off: just words (and pictures).",
        "zh": "已关闭说话视频：只发文字（和图片）。",
    },
    "video_admins_only": {
        "en": "Only the group's admins can turn talking videos on or off.",
        "zh": "只有群管理员可以开关说话视频。",
    },
    "video_unavailable": {
        "en": (
            "Talking videos need an image model or a lip-sync model, and this bot runs "
            "without either."
        ),
        "zh": "说话视频需要图像模型或唇形同步模型，而这个机器人两者都没有配置。",
    },
    "cli_filming": {"en": "filming them talking", "zh": "正在拍 TA 说话的视频"},
    "cli_video_saved": {"en": "Talking video saved to {path}", "zh": "说话的视频已保存到 {path}"},
    "cli_no_video": {
        "en": (
            "No talking video: no face was found in the photo (or no image model, and no "
            "lip-sync model with a voice)."
        ),
        "zh": (
            "没有生成说话视频：照片里没有找到人脸"
            "（或没有图像模型，也没有可配合语音的唇形同步模型）。"
        ),
    },
    # --- terminal chat (photo-talk chat) ----------------------------------------------------
    "cli_loading": {"en": "loading models", "zh": "正在加载模型"},
    "cli_looking": {"en": "looking at the photo", "zh": "正在看照片"},
    "cli_thinking": {"en": "getting to know them", "zh": "正在了解 TA"},
    "cli_drawing": {"en": "drawing them talking", "zh": "正在画 TA 说话的样子"},
    "cli_replying": {"en": "{name} is thinking", "zh": "{name} 正在想"},
    "cli_sees": {"en": "I see: {description}", "zh": "我看到：{description}"},
    "cli_persona": {
        "en": "{name} — {traits}. Speaks: {style}",
        "zh": "{name} —— {traits}。说话方式：{style}",
    },
    "cli_saved": {"en": "Talking picture saved to {path}", "zh": "说话的图片已保存到 {path}"},
    "cli_withheld": {
        "en": "The picture was withheld by the image model's safety checker.",
        "zh": "图片被图像模型的安全检查拦下了。",
    },
    "cli_hint": {
        "en": "Type to talk (Ctrl-D or /quit to leave). This is AI role-play, not the real person.",
        "zh": "输入文字和 TA 聊天（Ctrl-D 或 /quit 退出）。这是 AI 角色扮演，不是真实的人。",
    },
    "cli_bye": {"en": "Goodbye!", "zh": "再见！"},
    "cli_voice_saved": {"en": "Voice saved to {path}", "zh": "语音已保存到 {path}"},
    "cli_heard": {"en": "You said: {text}", "zh": "你说：{text}"},
    "cli_no_audio": {"en": "No such audio file: {path}", "zh": "找不到音频文件：{path}"},
    "cli_no_photo": {"en": "No such file: {path}", "zh": "找不到文件：{path}"},
}


def text(key: str, lang: Language, **values: object) -> str:
    """The sentence `key` in `lang`, with `{placeholders}` filled in."""
    template = TEXTS[key][lang]
    return template.format(**values) if values else template
